"""Incidents in a window: counts by severity, and time to acknowledge against the response targets.

Targets are the operational-maturity ones (P0 immediate, P1 15 minutes, P2
1 hour, P3 4 hours; "immediate" is judged as :data:`~opsctl.incidents.model.IMMEDIATE`),
read from :data:`opsctl.incidents.model.POLICIES` so the report and
``opsctl incident`` can never disagree.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from opsctl.incidents import store
from opsctl.incidents.metrics import concerns
from opsctl.incidents.model import POLICIES, Incident, Severity


@dataclass(frozen=True)
class Acknowledged:
    """How one severity's incidents were answered: median time to acknowledge, target, how many on time."""

    severity: Severity
    target_s: float
    answered: int
    on_time: int
    median_s: float | None

    @property
    def target_text(self) -> str:
        return POLICIES[self.severity].respond_text


def incidents_in(audit_path: Path, start: datetime, end: datetime, env: str | None = None) -> list[Incident]:
    """The incidents opened in ``[start, end]`` that concern ``env`` (all with None), oldest first."""
    return [i for i in store.load_all(audit_path) if start <= i.opened_at <= end and concerns(i, env)]


def acknowledgements(incidents: list[Incident], now: datetime) -> list[Acknowledged]:
    """One row per severity (P0..P3): only answered incidents count (acknowledged, or resolved without an ack)."""
    rows = []
    for severity in Severity:
        measures = [i.acknowledge_measure(now) for i in incidents if i.severity == severity]
        done = [m for m in measures if m.done]
        rows.append(
            Acknowledged(
                severity,
                POLICIES[severity].respond_s,
                len(done),
                sum(1 for m in done if not m.breached),
                statistics.median([m.seconds for m in done]) if done else None,
            )
        )
    return rows
