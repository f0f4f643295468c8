"""``opsctl --version`` (and ``-V``), as well as ``opsctl version``: the same answer, fast, in both output modes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from opsctl import __version__
from tests.support.clirunner import one_error, opsctl

DOCUMENT = {"version": __version__, "python": sys.version.split()[0]}


@pytest.fixture(autouse=True)
def _nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no opsctl.yaml: the version needs none
    monkeypatch.delenv("OPSCTL_CONFIG", raising=False)


@pytest.mark.parametrize("args", [("--version",), ("-V",), ("version",), ("--no-color", "--version")])
def test_the_version_line(args: tuple[str, ...]) -> None:
    result = opsctl(*args)
    assert (result.code, result.out, result.err) == (0, f"opsctl {__version__}\n", "")


@pytest.mark.parametrize("args", [("--json", "--version"), ("--version", "--json"), ("--json", "-V")])
def test_json_version_is_the_same_document_as_json_version_command(args: tuple[str, ...]) -> None:
    result = opsctl(*args)
    assert (result.code, result.err) == (0, "")
    assert json.loads(result.out) == DOCUMENT
    assert json.loads(opsctl("--json", "version").out) == DOCUMENT


def test_version_wins_over_a_missing_command_and_a_broken_config(tmp_path: Path) -> None:
    (tmp_path / "opsctl.yaml").write_text("- not a mapping\n")
    result = opsctl("--config", str(tmp_path / "opsctl.yaml"), "--version")
    assert (result.code, result.out) == (0, f"opsctl {__version__}\n")


def test_version_is_listed_in_the_root_help() -> None:
    result = opsctl("--help")
    assert "-V, --version         Print the opsctl version and exit." in result.out


def test_version_is_a_root_option_only() -> None:
    result = opsctl("status", "--version")
    assert result.code == 2
    assert one_error(result) == "error: No such option: --version (see 'opsctl status --help')"


def test_version_in_a_real_process_imports_no_command_and_nothing_heavy(tmp_path: Path) -> None:
    # What `opsctl --version` costs: typer and opsctl.cli.app, no command module, no Rich, no config parsing.
    script = """
import atexit, runpy, sys
def report():
    loaded = [m for m, module in sys.modules.items() if module is not None]  # None: marked absent (httpx._main)
    names = {m.split(".")[0] for m in loaded} | {m for m in loaded if m.startswith("opsctl.")}
    unwanted = {"boto3", "botocore", "httpx", "git", "jinja2", "rich", "pydantic", "yaml"}
    found = sorted((names & unwanted) | {m for m in names if m.endswith("_cmd")})
    sys.__stdout__.write("LOADED " + ",".join(found) + "\\n")
atexit.register(report)
sys.argv = ["opsctl", "--version"]
runpy.run_module("opsctl", run_name="__main__", alter_sys=True)
"""
    environ = {k: v for k, v in os.environ.items() if k != "OPSCTL_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [f"opsctl {__version__}", "LOADED "]
