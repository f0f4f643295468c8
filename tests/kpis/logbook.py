"""Write runs into a real audit log through AuditLog and Journal, at times the test chooses.

The events are the ones `opsctl.runs.run` writes: ``run started`` (params,
dry_run), the steps, an automatic rollback's events (a journal with
``rollback_of``), and the terminal ``run`` event with the releases and
``attempted`` / ``verified``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opsctl.audit.log import AuditLog, Journal

CHANGE_TYPES = {"deploy": "normal", "hot-patch": "emergency", "rollback": "standard"}


def at(text: str) -> datetime:
    """``"11-03 09:20"`` -> 2026-11-03T09:20:00Z (the tests' year)."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Logbook:
    path: Path
    clock: Clock = field(default_factory=lambda: Clock(at("01-01 00:00")))
    actor: str = "dev@example.com"

    @property
    def log(self) -> AuditLog:
        return AuditLog(self.path, clock=self.clock)

    def run(  # noqa: PLR0917 - reads like a row of the tests' tables: id, runbook, env, start, end, verdict
        self,
        run: str,
        runbook: str,
        env: str,
        start: str,
        end: str | None,
        status: str,
        *,
        attempted: bool = True,
        dry_run: bool = False,
        rollback_at: str | None = None,
        image: str = "hvb:1.0.0",
        incident: str | None = None,
    ) -> None:
        """One run from ``start`` to ``end`` (``None``: no terminal event, still running)."""
        extra: dict[str, Any] = {"change_type": CHANGE_TYPES[runbook]}
        if incident:
            extra["incident"] = incident
        journal = Journal(self.log, run, runbook, env, self.actor, extra)
        begin = at(start)
        self.clock.now = begin
        journal.event(
            "run",
            "started",
            params={"image": image} if runbook != "rollback" else {"to": None},
            digest="0" * 64,
            dry_run=dry_run,
        )
        self.clock.now = begin + timedelta(seconds=30)
        journal.event("plan", "passed", kind="step", title="Plan", summary="plan", state={})
        release = {"id": f"{env}:{run}", "image": image}
        if attempted:
            self.clock.now = begin + timedelta(seconds=60)
            journal.event("deploy", "started", kind="step", title="Roll out")
            journal.event("deploy", "passed", kind="step", title="Roll out", state={"attempted": release})
        if rollback_at is not None:
            self._automatic_rollback(run, runbook, env, at(rollback_at))
        if end is None:
            return
        self.clock.now = at(end)
        fields: dict[str, Any] = {
            "summary": f"{runbook} {status}",
            "release_before": {"id": f"{env}:before", "image": "hvb:0.9.0"},
            "release_after": release if status in ("succeeded", "rolled_back") and attempted else None,
            "attempted": release if attempted else None,
            "verified": status == "succeeded" and not dry_run,
        }
        if status == "interrupted":
            fields = {"summary": "interrupted by the user; resume with `opsctl resume`"}
        journal.event("run", status, **fields)

    def _automatic_rollback(self, run: str, runbook: str, env: str, moment: datetime) -> None:
        rollback = Journal(
            self.log, run, "rollback", env, self.actor, {"rollback_of": runbook, "change_type": "standard"}
        )
        self.clock.now = moment
        rollback.event("plan", "started", kind="step", title="Read what runs now")
        self.clock.now = moment + timedelta(seconds=20)
        rollback.event("plan", "passed", kind="step", title="Read what runs now", state={})
        rollback.event("rollback", "started", kind="step", title="Put the verified release back")
