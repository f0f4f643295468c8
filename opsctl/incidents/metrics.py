"""Incident figures for ``opsctl report``: counts by severity, MTTR (open → resolve), breaches, missing post-mortems.

The deploy-based MTTR (how long a failed change took to repair) lives in
the report; this one is the incident process's own: from
``incident open`` to ``incident resolve``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.incidents import store
from opsctl.incidents.model import Incident, Severity

if TYPE_CHECKING:
    from opsctl.kpis import figures as report


@dataclass(frozen=True)
class IncidentStats:
    """Incidents opened in a window (and, with ``env``, concerning that environment)."""

    count_by_severity: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Severity})
    resolved: int = 0
    mttr_s: float | None = None  # mean open → resolve over the resolved ones; None when none is
    missing_postmortems: tuple[str, ...] = ()  # resolved P0/P1 incidents without a post-mortem
    breached: tuple[str, ...] = ()  # incidents that missed (or are past) a response or resolution target

    @property
    def opened(self) -> int:
        return sum(self.count_by_severity.values())

    @property
    def open(self) -> int:
        return self.opened - self.resolved

    @property
    def p0p1_without_postmortem(self) -> int:
        return len(self.missing_postmortems)

    @property
    def breaches(self) -> int:
        return len(self.breached)

    def as_dict(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "resolved": self.resolved,
            "open": self.open,
            "mttr_s": self.mttr_s,
            "count_by_severity": dict(self.count_by_severity),
            "p0p1_without_postmortem": self.p0p1_without_postmortem,
            "missing_postmortems": list(self.missing_postmortems),
            "breaches": self.breaches,
            "breached": list(self.breached),
        }


def concerns(incident: Incident, env: str | None) -> bool:
    """Whether an incident belongs in a report on ``env``: it names it (or changed it), or names no environment."""
    return env is None or not incident.envs or env in incident.envs


def incident_summary(audit_path: Path, env: str | None, since: datetime | None, now: datetime) -> IncidentStats:
    """Figures over the incidents opened in ``[since, now]`` (``since=None``: all of them) that concern ``env``."""
    chosen = [
        i
        for i in store.load_all(audit_path)
        if (since is None or i.opened_at >= since) and i.opened_at <= now and concerns(i, env)
    ]
    return summarize(chosen, now)


def summarize(incidents: list[Incident], now: datetime) -> IncidentStats:
    counts = {s.value: 0 for s in Severity}
    for incident in incidents:
        counts[incident.severity.value] += 1
    repaired = [i for i in incidents if i.resolved_at is not None and i.resolved_at <= now]
    durations = [(i.resolved_at - i.opened_at).total_seconds() for i in repaired if i.resolved_at is not None]
    return IncidentStats(
        count_by_severity=counts,
        resolved=len(repaired),
        mttr_s=sum(durations) / len(durations) if durations else None,
        missing_postmortems=tuple(i.id for i in incidents if i.postmortem_due),
        breached=tuple(i.id for i in incidents if i.breaches(now)),
    )


def report_source(audit_path: Path) -> Callable[[datetime, datetime, str | None], report.IncidentStats]:
    """The :data:`opsctl.kpis.figures.IncidentSource` of a project's log: ``report_from_log(..., incidents=this)``."""

    def source(start: datetime, end: datetime, env: str | None) -> report.IncidentStats:
        from opsctl.kpis.figures import IncidentStats as ReportStats

        stats = incident_summary(audit_path, env, start, end)
        return ReportStats(
            stats.opened,
            stats.resolved,
            stats.mttr_s,
            by_severity=dict(stats.count_by_severity),
            missing_postmortems=stats.missing_postmortems,
            breached=stats.breached,
        )

    return source
