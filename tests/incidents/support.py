"""Incident tests: a project in tmp_path, a clock the test moves, and the CLI run in-process."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from opsctl.audit.query import read_events
from opsctl.cli.app import app
from opsctl.cli.application import Application
from tests.support.context import base_config, write_config

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
ALICE = "alice@example.com"
BOB = "bob@example.com"


@dataclass
class Clock:
    """Stands still until the test moves it."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def at(self, minutes: float) -> None:
        self.now = T0 + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def error(self) -> str:
        """The one ``error: ...`` line of a failed command (asserting it is alone)."""
        lines = self.err.splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("error: "), self.err
        return lines[0]


@dataclass
class Project:
    path: Path
    clock: Clock = field(default_factory=Clock)
    actor: str = ALICE

    @property
    def config(self) -> Path:
        return self.path / "opsctl.yaml"

    @property
    def audit_path(self) -> Path:
        return self.path / ".opsctl" / "audit.jsonl"

    def run(
        self,
        *args: str,
        actor: str | None = None,
        tty: bool = False,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        obj = Application(interactive=tty, actor=actor or self.actor, clock=self.clock, no_color=True)
        env = {"COLUMNS": "200", **(env or {})}  # wide enough that Rich never wraps a line under test
        result = CliRunner().invoke(app, ["--config", str(self.config), *args], obj=obj, input=input, env=env)
        assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
        return Result(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str, **kwargs: Any) -> Result:
        result = self.run(*args, **kwargs)
        assert result.code == 0, result.out + result.err
        return result

    def events(self, step: str | None = "incident") -> list[dict[str, Any]]:
        return [e for e in read_events(self.audit_path) if step is None or e.get("step") == step]


def make_project(tmp_path: Path, **config: Any) -> Project:
    write_config(tmp_path, base_config(**config))
    return Project(tmp_path)


def strip_chain(event: dict[str, Any]) -> dict[str, Any]:
    """An event without the fields that change from run to run (seq, hashes, run id)."""
    return {k: v for k, v in event.items() if k not in ("seq", "prev", "hash", "run")}
