"""Run the Typer app in-process, the way a person or CI would call ``opsctl``."""

from __future__ import annotations

from dataclasses import dataclass

from typer.testing import CliRunner

from opsctl.cli.app import app
from opsctl.cli.application import Application
from tests.support.context import FIXED_NOW

ACTOR = "tester@example.com"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def opsctl(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, application: Application | None = None
) -> Result:
    """Exit code, stdout and stderr of one invocation (never a traceback, whatever happens)."""
    obj = application or Application(interactive=False, actor=ACTOR, clock=lambda: FIXED_NOW)
    result = CliRunner().invoke(app, list(args), env=env, input=input, obj=obj)
    assert "Traceback" not in result.stdout + result.stderr
    return Result(result.exit_code, result.stdout, result.stderr)


def one_error(result: Result) -> str:
    """The single ``error: ...`` line a failed command prints on stderr (asserting it is alone)."""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    return lines[0]
