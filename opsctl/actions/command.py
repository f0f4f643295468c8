"""``command``: run an argv list (never a shell string) with a timeout; keep a redacted output tail."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from opsctl.config import Duration
from opsctl.engine.actions import action
from opsctl.engine.checklist import time_left
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.values.durations import format_duration


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
            params.argv,
            cwd=cwd,
            env={**os.environ, **params.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except FileNotFoundError:
        return Outcome.failed(f"command not found: {params.argv[0]} (is it installed and on PATH?)")
    except PermissionError:
        return Outcome.failed(f"command not executable: {params.argv[0]}")
    budget = round(time_left(params.timeout), 1)  # 495ms left of a 500ms item reads as 500ms
    stopped, output = _wait(ctx, proc, started + budget)
    if stopped is not None:
        tail = _tail(ctx, output, params.tail)
        if stopped == "cancelled":
            return Outcome.failed(f"interrupted: {shown} was stopped", output_tail=tail)
        return Outcome.failed(f"timed out after {format_duration(budget)}: {shown}", output_tail=tail)
    elapsed = time.monotonic() - started
    tail = _tail(ctx, output, params.tail)
    detail = {
        "argv": params.argv,
        "exit_code": proc.returncode,
        "duration_ms": round(elapsed * 1000),
        "output_tail": tail,
    }
    if proc.returncode == params.exit_code:
        return Outcome.passed(f"exit {proc.returncode} in {format_duration(elapsed)}: {shown}", **detail)
    last = next((line for line in reversed(tail) if line.strip()), "")
    why = f" — {last.strip()[:160]}" if last else ""
    return Outcome.failed(f"exit {proc.returncode} (expected {params.exit_code}): {shown}{why}", **detail)


def _wait(ctx: RunContext, proc: subprocess.Popen[bytes], deadline: float) -> tuple[str | None, bytes]:
    """Wait in slices so that Ctrl-C (ctx.cancel) and the deadline stop the whole process group.

    Returns (None | "timeout" | "cancelled", output). A reader thread drains the
    pipe meanwhile, so a chatty program never blocks on a full pipe.
    """
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read() if proc.stdout else b""), daemon=True)
    reader.start()
    stopped: str | None = None
    while proc.poll() is None:
        if ctx.cancel.is_set():
            stopped = "cancelled"
        elif time.monotonic() >= deadline:
            stopped = "timeout"
        if stopped:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            break
        try:
            proc.wait(timeout=max(0.01, min(0.2, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            continue
    reader.join(5.0)
    return stopped, b"".join(chunks)


def _tail(ctx: RunContext, output: bytes | None, lines: int) -> list[str]:
    if not output or lines == 0:
        return []
    text = output.decode("utf-8", "replace")
    return [ctx.redactor.text(line) for line in text.splitlines()[-lines:]]
