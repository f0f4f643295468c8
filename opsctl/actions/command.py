"""``command``: run an argv list (never a shell string) with a timeout; keep a redacted output tail."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from opsctl.actions.registry import action
from opsctl.config import Duration
from opsctl.durations import format_duration
from opsctl.engine.context import RunContext
from opsctl.engine.executor import time_left
from opsctl.engine.outcome import Outcome


class CommandParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    argv: list[str] = Field(min_length=1)
    timeout: Duration = 300.0
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    tail: int = Field(20, ge=0, le=500, description="lines of output kept for the log")
    exit_code: int = Field(0, description="the exit code that counts as success")


@action("command", CommandParams)
def command(ctx: RunContext, params: CommandParams) -> Outcome:
    """Run a program (argv list) and pass when it exits with the expected code."""
    cwd = Path(params.cwd) if params.cwd else ctx.project_dir
    if not cwd.is_absolute():
        cwd = ctx.project_dir / cwd
    shown = " ".join(params.argv)
    if not cwd.is_dir():
        return Outcome.failed(f"working directory {cwd} does not exist")
    started = time.monotonic()
    try:
        # A new session lets a timeout kill the whole process group, children included.
        proc = subprocess.Popen(
            params.argv, cwd=cwd, env={**os.environ, **params.env}, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    except FileNotFoundError:
        return Outcome.failed(f"command not found: {params.argv[0]} (is it installed and on PATH?)")
    except PermissionError:
        return Outcome.failed(f"command not executable: {params.argv[0]}")
    budget = time_left(params.timeout)
    try:
        output, _ = proc.communicate(timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        tail = _tail(ctx, output, params.tail)
        return Outcome.failed(f"timed out after {format_duration(budget)}: {shown}", output_tail=tail)
    elapsed = time.monotonic() - started
    tail = _tail(ctx, output, params.tail)
    detail = {"argv": params.argv, "exit_code": proc.returncode, "duration_ms": round(elapsed * 1000),
              "output_tail": tail}  # fmt: skip
    if proc.returncode == params.exit_code:
        return Outcome.passed(f"exit {proc.returncode} in {format_duration(elapsed)}: {shown}", **detail)
    last = next((line for line in reversed(tail) if line.strip()), "")
    why = f" — {last.strip()[:160]}" if last else ""
    return Outcome.failed(f"exit {proc.returncode} (expected {params.exit_code}): {shown}{why}", **detail)


def _tail(ctx: RunContext, output: bytes | None, lines: int) -> list[str]:
    if not output or lines == 0:
        return []
    text = output.decode("utf-8", "replace")
    return [ctx.redactor.text(line) for line in text.splitlines()[-lines:]]
