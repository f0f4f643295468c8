"""The report's figures as data: change failures, one environment's KPIs, incident figures, the whole report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from opsctl.audit.line import format_ts
from opsctl.kpis.waivers import Waived

REPORT_VERSION = 1


@dataclass(frozen=True)
class ChangeFailure:
    """A counted deploy that failed (or was remedied), when that was found and when service came back."""

    run: str
    env: str
    runbook: str
    image: str | None
    why: str
    failed_at: datetime
    recovered_at: datetime | None
    recovered_by: str | None  # the run whose verified end restored service

    @property
    def recovery_s(self) -> float | None:
        return None if self.recovered_at is None else (self.recovered_at - self.failed_at).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "env": self.env,
            "runbook": self.runbook,
            "image": self.image,
            "why": self.why,
            "failed_at": format_ts(self.failed_at),
            "recovered_at": format_ts(self.recovered_at) if self.recovered_at else None,
            "recovered_by": self.recovered_by,
            "recovery_s": self.recovery_s,
        }


@dataclass(frozen=True)
class EnvReport:
    """The KPIs of one environment (or of all: ``env == "all"``) over the window."""

    env: str
    window_days: float
    deploys: int
    succeeded: int
    dry_runs: int
    stopped_before_rollout: int
    unfinished: int
    per_day: tuple[int, ...]  # deploys per UTC day of the window, oldest first
    failures: tuple[ChangeFailure, ...]
    failure_gaps_s: tuple[float, ...]  # between successive failures of one environment (MTBF)
    waivers: tuple[Waived, ...] = ()  # manual gates waived in the window, oldest first

    @property
    def frequency_per_day(self) -> float:
        return self.deploys / self.window_days

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.deploys if self.deploys else None

    @property
    def change_failure_rate(self) -> float | None:
        return len(self.failures) / self.deploys if self.deploys else None

    @property
    def recovered(self) -> tuple[ChangeFailure, ...]:
        return tuple(f for f in self.failures if f.recovered_at is not None)

    @property
    def mttr_s(self) -> float | None:
        times = [f.recovery_s for f in self.recovered if f.recovery_s is not None]
        return sum(times) / len(times) if times else None

    @property
    def mtbf_s(self) -> float | None:
        return sum(self.failure_gaps_s) / len(self.failure_gaps_s) if self.failure_gaps_s else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "deploys": self.deploys,
            "succeeded": self.succeeded,
            "change_failures": len(self.failures),
            "recovered": len(self.recovered),
            "open_failures": len(self.failures) - len(self.recovered),
            "deployment_frequency_per_day": self.frequency_per_day,
            "deployment_success_rate": self.success_rate,
            "change_failure_rate": self.change_failure_rate,
            "mttr_s": self.mttr_s,
            "mtbf_s": self.mtbf_s,
            "not_counted": {
                "dry_runs": self.dry_runs,
                "stopped_before_rollout": self.stopped_before_rollout,
                "unfinished": self.unfinished,
            },
            "deploys_per_day": list(self.per_day),
            "failures": [f.as_dict() for f in self.failures],
            "waivers": len(self.waivers),
            "waived": [w.as_dict() for w in self.waivers],
        }


@dataclass(frozen=True)
class IncidentStats:
    """Incident-based figures (from incident opened to resolved); filled by an :data:`IncidentSource`."""

    opened: int
    resolved: int
    mttr_s: float | None
    # Filled by opsctl.incidents.metrics.report_source: P0-P3 counts, the resolved P0/P1 incidents
    # that still lack a post-mortem, and the incidents that missed a response or resolution target.
    by_severity: dict[str, int] = field(default_factory=dict)
    missing_postmortems: tuple[str, ...] = ()
    breached: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "resolved": self.resolved,
            "mttr_s": self.mttr_s,
            "by_severity": dict(self.by_severity),
            "p0p1_without_postmortem": len(self.missing_postmortems),
            "missing_postmortems": list(self.missing_postmortems),
            "breached": list(self.breached),
        }


# (window start, window end, environment or None for all) -> incident figures.
IncidentSource = Callable[[datetime, datetime, str | None], IncidentStats]


@dataclass(frozen=True)
class Report:
    """The whole report: the window, one row per environment, their total, and the incident figures."""

    start: datetime
    end: datetime
    since_s: float
    days: tuple[date, ...]  # the UTC days that ``per_day`` counts
    environments: tuple[EnvReport, ...]
    total: EnvReport
    incidents: IncidentStats | None = None  # None until an incident source is wired in

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "window": {
                "start": format_ts(self.start),
                "end": format_ts(self.end),
                "since_s": self.since_s,
                "days": [d.isoformat() for d in self.days],
            },
            "environments": [e.as_dict() for e in self.environments],
            "total": self.total.as_dict(),
            "incidents": self.incidents.as_dict() if self.incidents else None,
        }
