"""A generated history for the report pages: a few hundred runs and some incidents, in a real audit log.

Deterministic (a seeded generator), written through AuditLog and Journal the
way opsctl writes them (tests/kpis/logbook.py), so every page is built from
the same events a real project would have.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from opsctl.audit.log import Journal
from tests.kpis.logbook import Logbook

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ENVS = ("staging", "production")


@dataclass
class Generated:
    book: Logbook
    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)  # (env, status) -> count of counted deploys
    cells: set[tuple[str, str, str]] = field(default_factory=set)  # (env, week monday, outcome) with deploys
    incidents: list[tuple[str, str]] = field(default_factory=list)  # (id, severity)
    runs: int = 0


def _text(moment: datetime) -> str:
    return moment.strftime("%m-%d %H:%M")


def generate(path: Path, *, runs: int = 300, days: int = 84, seed: int = 7, hostile: str = "") -> Generated:
    """``runs`` deploys over the ``days`` before NOW, in staging and production, and a dozen incidents."""
    rng = random.Random(seed)
    book = Logbook(path)
    made = Generated(book)
    start = NOW - timedelta(days=days) + timedelta(hours=1)
    step = (days * 86400 - 7200) / runs
    for n in range(runs):
        begin = start + timedelta(seconds=n * step)
        env = ENVS[n % 2]
        status = rng.choices(["succeeded", "rolled_back", "failed"], weights=[85, 10, 5])[0]
        end = begin + timedelta(minutes=20)
        run = f"r{n:04d}{hostile}"
        rollback_at = _text(begin + timedelta(minutes=10)) if status == "rolled_back" else None
        book.run(run, "deploy", env, _text(begin), _text(end), status, rollback_at=rollback_at, image=f"hvb:1.{n}.0")
        made.runs += 1
        made.outcomes[(env, status)] = made.outcomes.get((env, status), 0) + 1
        monday = (end.date() - timedelta(days=end.weekday())).isoformat()
        made.cells.add((env, monday, {"succeeded": "succeeded", "rolled_back": "rolled back"}.get(status, "failed")))
    for k in range(12):
        opened = start + timedelta(days=k * 6 + 2, hours=3)
        severity = ("P0", "P1", "P2", "P3")[k % 4]
        incident = f"INC-{k + 1}"
        _incident(book, incident, severity, opened, ack_minutes=rng.choice([2, 10, 30, 90, 300]), hostile=hostile)
        made.incidents.append((incident, severity))
    return made


def _incident(book: Logbook, incident: str, severity: str, opened: datetime, *, ack_minutes: int, hostile: str) -> None:
    log = book.log
    journal = Journal(log, f"i-{incident}", "incident", "production", "oncall@example.com", {"incident": incident})
    book.clock.now = opened
    journal.event("incident", "opened", severity=severity, title=f"guests cannot book{hostile}", summary="opened")
    book.clock.now = opened + timedelta(minutes=ack_minutes)
    journal.event("incident", "acknowledged", summary="acknowledged")
    book.clock.now = opened + timedelta(hours=2)
    journal.event("incident", "resolved", cause=f"bad config{hostile}", summary="resolved")
