"""The command-line checker the workflow and example tests rely on catches what it must."""

from __future__ import annotations

import pytest

from tests.docs.cli import check, command_path


@pytest.mark.parametrize(
    "args",
    [
        ["--json", "deploy", "staging", "--image", "hvb:1.8.0", "--yes", "--confirm", "security-scan"],
        ["--config", "opsctl.yaml", "audit", "verify"],
        ["report", "--since", "30d", "--env", "production"],
        ["deploy", "staging", "--image", "--yes"],  # odd, but parses: the image is "--yes"
        ["deploy", "staging", "--image", "hvb:1.8.0", "--yes", "--json"],  # global options may come last
    ],
)
def test_valid_lines(args: list[str]) -> None:
    code, output = check(args)
    assert code == 0, output
    assert "Usage:" in output


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["deploy", "staging", "--imag", "hvb:1.8.0"], "No such option: --imag"),
        (["--yes", "deploy", "staging"], "No such option: --yes"),
        (["deploi", "staging"], "No such command 'deploi'"),
        (["audit", "verfy"], "No such command 'verfy'"),
    ],
)
def test_invalid_lines(args: list[str], why: str) -> None:
    code, output = check(args)
    assert code == 2
    assert why in output


def test_command_path() -> None:
    assert command_path(["--config", "x.yaml", "--json", "audit", "verify", "--help"]) == (["audit", "verify"], 5)
    assert command_path(["deploy", "staging"]) == (["deploy"], 1)
