"""Reviews held: the ``review`` audit events ``opsctl review`` writes (evidence for ``opsctl maturity``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from opsctl.audit.query import read_events

REVIEW_STEP = "review"
REVIEW_RUNBOOK = "review"
REVIEW_MARK = b'"step":"review"'  # cheap pre-filter: only these lines are parsed


@dataclass(frozen=True)
class Held:
    """One review recorded as held."""

    kind: str
    period: str
    at: datetime
    run: str
    actor: str


def reviews_held(audit_path: Path, start: datetime | None = None, end: datetime | None = None) -> list[Held]:
    """The reviews recorded in ``[start, end)`` (all with None), oldest first."""
    found = []
    for event in read_events(audit_path, (REVIEW_MARK,)):
        if event.get("step") != REVIEW_STEP or event.get("status") != "held":
            continue
        try:
            at = datetime.fromisoformat(str(event.get("ts")))
        except ValueError:
            continue
        if (start is None or at >= start) and (end is None or at < end):
            held = Held(
                str(event.get("kind")), str(event.get("period")), at, str(event.get("run")), str(event.get("actor"))
            )
            found.append(held)
    return found
