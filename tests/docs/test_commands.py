"""Every command has help text and an example that parses, and the README lists it (STYLE 12)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from opsctl.cli.app import app
from opsctl.cli.docs_cmd import examples, walk
from tests.docs.cli import check

REPO = Path(__file__).resolve().parents[2]
COMMANDS = list(walk(typer.main.get_command(app)))
LEAVES = [(path, command) for path, command in COMMANDS if not hasattr(command, "list_commands")]
EXAMPLES = [(path, line) for path, command in LEAVES for line in examples(command.help)]
# Examples known not to parse, each a bug to fix in its command's docstring (the test turns red when fixed).
KNOWN_BROKEN: dict[str, str] = {}  # example lines that do not parse yet, with the reason


def ids(path: tuple[str, ...]) -> str:
    return " ".join(path)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[ids(p) for p, _ in COMMANDS])
def test_has_help(path: tuple[str, ...], command: object) -> None:
    text = (getattr(command, "help", None) or "").strip()
    assert text, f"`opsctl {ids(path)}` has no help text"
    assert len(text.split()) >= 4, f"`opsctl {ids(path)}`: help too short to be useful: {text!r}"


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[ids(p) for p, _ in LEAVES])
def test_has_an_example(path: tuple[str, ...], command: object) -> None:
    found = examples(getattr(command, "help", None))
    assert found, f"`opsctl {ids(path)}` --help shows no example (an `Example:` block of `opsctl ...` lines)"
    assert any(line.split()[1 : 1 + len(path)] == list(path) or f" {path[-1]} " in f"{line} " for line in found)


@pytest.mark.parametrize(
    ("path", "line"),
    [
        pytest.param(p, line, marks=pytest.mark.xfail(reason=KNOWN_BROKEN[line], strict=True))
        if line in KNOWN_BROKEN
        else (p, line)
        for p, line in EXAMPLES
    ],
    ids=[f"{ids(p)}: {line}" for p, line in EXAMPLES],
)
def test_examples_parse(path: tuple[str, ...], line: str) -> None:
    code, output = check(shlex.split(line)[1:])
    assert code == 0, f"{line}:\n{output}"


def _in_readme(path: tuple[str, ...], readme: str) -> bool:
    """A README line names ``opsctl GROUP`` and the subcommand as a word (`opsctl lock status ENV` / `release`)."""
    head = rf"opsctl {re.escape(path[0])}\b"
    return any(
        re.search(head, line) and (len(path) == 1 or re.search(rf"\b{re.escape(path[-1])}\b", line))
        for line in readme.splitlines()
    )


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[ids(p) for p, _ in COMMANDS])
def test_in_readme(path: tuple[str, ...], command: object) -> None:
    readme = (REPO / "README.md").read_text()
    assert _in_readme(path, readme), f"README.md does not mention `opsctl {ids(path)}`"
