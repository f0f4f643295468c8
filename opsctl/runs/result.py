"""What a run returns (RunResult) and how it was asked to run (RunOptions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsctl.engine.context import Observer, Prompter
from opsctl.engine.runbook import StepResult
from opsctl.engine.state import RunState
from opsctl.errors import ExitCode, RunFailed


class Declined(RunFailed):
    """The person did not confirm a change to a protected environment."""


@dataclass(frozen=True)
class RunResult:
    run: str
    runbook: str
    env: str
    status: str  # succeeded | failed | rolled_back | rollback_failed | dry_run
    summary: str
    steps: tuple[StepResult, ...] = ()
    rollback_steps: tuple[StepResult, ...] = ()
    state: RunState = field(default_factory=RunState)

    @property
    def exit_code(self) -> ExitCode:
        if self.status in ("succeeded", "dry_run"):
            return ExitCode.OK
        if self.status == "rollback_failed":
            return ExitCode.NEEDS_HUMAN
        return ExitCode.FAILED

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "runbook": self.runbook,
            "env": self.env,
            "status": self.status,
            "exit_code": int(self.exit_code),
            "summary": self.summary,
            "release_before": self.state.previous,
            "release_after": self.state.release,
            "steps": [s.as_dict() for s in self.steps],
            "rollback_steps": [s.as_dict() for s in self.rollback_steps],
        }


@dataclass
class RunOptions:
    """How to run (the request says what to do)."""

    dry_run: bool = False
    yes: bool = False
    no_rollback: bool = False
    prompter: Prompter | None = None
    observer: Observer | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # recorded on every event (change_type, incident)
