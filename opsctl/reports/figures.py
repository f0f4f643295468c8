"""How figures are written on the pages: percentages, durations, times, and the rows of the common tables."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime

from opsctl.incidents.model import Incident
from opsctl.kpis.figures import ChangeFailure, EnvReport
from opsctl.values.durations import format_duration


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return format_duration(seconds) if seconds < 2 * 86400 else f"{seconds / 86400:.1f}d"


def when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def one_decimal(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def median_or_none(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def kpi_row(row: EnvReport) -> list[object]:
    return [
        row.env,
        row.deploys,
        f"{row.frequency_per_day:.2f}",
        percent(row.success_rate),
        percent(row.change_failure_rate),
        duration(row.mttr_s),
        duration(row.mtbf_s),
        len(row.failures) - len(row.recovered),
        len(row.waivers),
    ]


def failure_row(failure: ChangeFailure) -> list[object]:
    return [
        when(failure.failed_at),
        failure.env,
        failure.run,
        failure.image or "-",
        failure.why,
        failure.recovered_by or "not recovered yet",
        duration(failure.recovery_s),
    ]


def postmortem_status(incident: Incident, now: datetime) -> str:
    """``written (path)``, ``overdue (due DATE)``, ``due DATE``, ``not required`` or ``not resolved yet``."""
    if incident.postmortem is not None:
        return f"written ({incident.postmortem})"
    if not incident.policy.postmortem_required:
        return "not required"
    if incident.resolved_at is None:
        return "not resolved yet"
    due = incident.postmortem_date
    return f"overdue (due {due})" if incident.postmortem_overdue(now) else f"due {due}"


def incident_row(incident: Incident, now: datetime) -> list[object]:
    measure = incident.acknowledge_measure(now)
    taken = duration(measure.seconds) + ("" if measure.done else " (not yet)")
    verdict = ("missed" if measure.done else "overdue") if measure.breached else ("met" if measure.done else "open")
    return [
        incident.id,
        incident.severity.value,
        incident.title,
        when(incident.opened_at),
        taken,
        incident.policy.respond_text,
        verdict,
        postmortem_status(incident, now),
    ]
