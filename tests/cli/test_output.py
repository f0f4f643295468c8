"""The output convention: one JSON document, JSON Lines, the error line (plain or JSON), and one writer."""

from __future__ import annotations

import ast
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from opsctl.cli import output
from opsctl.cli.application import Application
from opsctl.cli.output import Output
from tests.support.clirunner import opsctl
from tests.support.context import base_config

CLI = Path(__file__).resolve().parents[2] / "opsctl" / "cli"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("OPSCTL_CONFIG", "OPSCTL_ACTOR", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(base_config(), sort_keys=False))
    return tmp_path


# --- the module's writers ----------------------------------------------------------------------------------------


def test_json_document_is_one_indented_document(capsys: pytest.CaptureFixture[str]) -> None:
    output.json_document({"env": "staging", "when": datetime(2026, 11, 27, 10, 0, tzinfo=UTC), "runs": [1]})
    captured = capsys.readouterr()
    assert captured.out == (
        '{\n  "env": "staging",\n  "when": "2026-11-27 10:00:00+00:00",\n  "runs": [\n    1\n  ]\n}\n'
    )
    assert captured.err == ""


def test_json_line_is_one_compact_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    output.json_line({"event": "item.finished", "path": Path("/x")})
    output.json_line({"event": "run.finished", "ok": True, "exit_code": 0})
    captured = capsys.readouterr()
    assert captured.out == (
        '{"event": "item.finished", "path": "/x"}\n{"event": "run.finished", "ok": true, "exit_code": 0}\n'
    )
    assert captured.err == ""


def test_error_is_one_line_on_stderr_plain_or_json(capsys: pytest.CaptureFixture[str]) -> None:
    output.error("unknown environment 'prod'", 2)
    output.error("unknown environment 'prod'", 2, as_json=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: unknown environment 'prod'\n" + '{"error": "unknown environment \'prod\'", "exit_code": 2}\n'
    )


def test_text_is_never_markup(capsys: pytest.CaptureFixture[str]) -> None:
    output.text("dependabot[bot] [bold]x[/]")
    output.text("stale: a.md", err=True)
    output.text("no newline", end="")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("dependabot[bot] [bold]x[/]\nno newline", "stale: a.md\n")


def test_output_shows_human_text_on_the_console_and_errors_in_its_mode(capsys: pytest.CaptureFixture[str]) -> None:
    console = Console(file=io.StringIO(), width=80, color_system=None)
    out = Output.over(console)
    out.show("[bold]deploy[/] staging")
    out.rule("step 1")
    assert console.file.getvalue().splitlines()[0] == "deploy staging"
    assert "step 1" in console.file.getvalue().splitlines()[1]

    Output(Application(json=True), json=True).error("locked by alice", 4)
    Output(Application()).error("locked by alice", 4)
    assert capsys.readouterr().err == '{"error": "locked by alice", "exit_code": 4}\nerror: locked by alice\n'


def test_human_text_can_go_to_stderr_while_stdout_carries_json() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    application = Application(json=True)
    application._console = Console(file=stdout, color_system=None)
    application._err_console = Console(file=stderr, color_system=None)
    Output(application, json=True, human_to_stderr=True).show("starting the sandbox")
    assert (stdout.getvalue(), stderr.getvalue()) == ("", "starting the sandbox\n")


def test_the_application_gives_the_output_of_its_mode() -> None:
    assert Application(json=True).output.json is True
    assert Application().output.json is False


# --- the error convention through the CLI ------------------------------------------------------------------------


def test_a_bad_input_error_with_json_is_a_json_object_on_stderr(project: Path) -> None:
    for argv in (
        ("--json", "checklist", "run", "gate", "--set", "image"),
        ("checklist", "run", "gate", "--set", "image", "--json"),  # --json after the command, as CI writes it
    ):
        result = opsctl(*argv)
        assert result.code == 2
        assert result.out == ""
        assert result.err == '{"error": "--set takes key=value, got \'image\'", "exit_code": 2}\n'
        assert json.loads(result.err) == {"error": "--set takes key=value, got 'image'", "exit_code": 2}


def test_without_json_the_same_error_stays_one_plain_line(project: Path) -> None:
    result = opsctl("checklist", "run", "gate", "--set", "image")
    assert (result.code, result.out, result.err) == (2, "", "error: --set takes key=value, got 'image'\n")


@pytest.mark.parametrize(
    ("argv", "message", "code"),
    [
        (("--json", "frobnicate"), "No such command 'frobnicate'. (see 'opsctl --help')", 2),
        (("--json", "deploy", "staging"), "Missing option '--image' / '-i'. (see 'opsctl deploy --help')", 2),
        (
            ("--json", "deploy", "prod", "--image", "hvb:1.8.0"),
            "unknown environment 'prod' (defined in opsctl.yaml: staging, production)",
            2,
        ),
        (
            ("--json", "resume", "r20261127-101500-1a2b3c"),
            "no run r20261127-101500-1a2b3c in the audit log (see `opsctl runs`)",
            2,
        ),
    ],
    ids=["usage", "missing-option", "config", "resume"],
)
def test_every_kind_of_error_is_a_json_object_with_json(
    project: Path, argv: tuple[str, ...], message: str, code: int
) -> None:
    result = opsctl(*argv)
    assert (result.code, result.out) == (code, "")
    assert result.err.count("\n") == 1
    assert json.loads(result.err) == {"error": message, "exit_code": code}


def test_json_error_from_the_application_mode_too(project: Path) -> None:
    """A caller that sets the mode on the Application (as the demo and tests do) gets the JSON error too."""
    result = opsctl("frobnicate", application=Application(json=True, interactive=False))
    assert result.code == 2
    assert json.loads(result.err) == {"error": "No such command 'frobnicate'. (see 'opsctl --help')", "exit_code": 2}


def test_json_after_a_double_dash_is_not_the_global_option(project: Path) -> None:
    result = opsctl("checklist", "run", "gate", "--", "--json")
    assert result.code == 2
    assert result.err.startswith("error: ")


# --- one writer ---------------------------------------------------------------------------------------------------


def _writes(path: Path) -> list[str]:
    """Calls in ``path`` that write to a stream themselves: print(), X.print(), typer.echo, sys.std*.write."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = ast.unparse(func)
        if (
            (isinstance(func, ast.Name) and func.id == "print")
            or (isinstance(func, ast.Attribute) and func.attr in ("print", "echo", "secho"))
            or name in ("sys.stdout.write", "sys.stderr.write")
        ):
            found.append((node.lineno, f"{path.name}:{node.lineno}: {name}"))
    return [where for _, where in sorted(found)]


def test_only_the_output_module_writes_to_stdout_and_stderr() -> None:
    modules = sorted(p for p in CLI.glob("*.py") if p.name != "output.py")
    assert modules
    writes = [w for path in modules for w in _writes(path)]
    assert not writes, "write through opsctl.cli.output instead:\n" + "\n".join(writes)


def test_the_write_finder_finds_writes(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text(
        "import sys, typer\nprint(1)\nconsole.print(2)\ntyper.echo(3)\nsys.stdout.write('4')\nout.show(5)\n"
    )
    assert _writes(source) == [
        "x.py:2: print",
        "x.py:3: console.print",
        "x.py:4: typer.echo",
        "x.py:5: sys.stdout.write",
    ]
