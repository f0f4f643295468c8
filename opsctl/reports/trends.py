"""The quarterly review's process figures: this quarter against the one before, and which way each moved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opsctl.kpis.figures import MARKS, Report
from opsctl.reports import figures as fig
from opsctl.reports.held import reviews_held
from opsctl.reports.history import history_of
from opsctl.reports.leadtime import lead_times
from opsctl.reports.periods import Period
from opsctl.reports.response import incidents_in

if TYPE_CHECKING:
    from opsctl.workspace import Workspace


@dataclass(frozen=True)
class Trend:
    """One figure in two periods; ``higher_is_better`` says which way is an improvement."""

    name: str
    before: float | None
    now: float | None
    higher_is_better: bool
    show: Callable[[float | None], str]

    @property
    def verdict(self) -> str:
        """``better``, ``worse``, ``same``, or ``-`` when either period has no figure."""
        if self.before is None or self.now is None:
            return "-"
        if abs(self.now - self.before) < 1e-9:
            return "same"
        return "better" if (self.now > self.before) == self.higher_is_better else "worse"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "previous": self.before,
            "current": self.now,
            "previous_text": self.show(self.before),
            "current_text": self.show(self.now),
            "higher_is_better": self.higher_is_better,
            "verdict": self.verdict,
        }


def _count(value: float | None) -> str:
    return "-" if value is None else str(int(value))


def _rate(value: float | None) -> str:
    return fig.percent(value)


def _per_day(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def quarter_trends(ws: Workspace, period: Period, report: Report, before: Report) -> tuple[Trend, ...]:
    """The figures of ``report`` (this quarter) and ``before`` (the previous one), side by side."""
    now = ws.clock()
    this, last = _extra(ws, period, report, now), _extra(ws, period.previous(), before, now)
    rows = [
        ("deploys", report.total.deploys, before.total.deploys, True, _count),
        ("deploys per day", report.total.frequency_per_day, before.total.frequency_per_day, True, _per_day),
        ("deployment success rate", report.total.success_rate, before.total.success_rate, True, _rate),
        ("change failure rate", report.total.change_failure_rate, before.total.change_failure_rate, False, _rate),
        ("MTTR", report.total.mttr_s, before.total.mttr_s, False, fig.duration),
        ("MTBF", report.total.mtbf_s, before.total.mtbf_s, True, fig.duration),
        ("lead time (median, production)", this["lead"], last["lead"], False, fig.duration),
        ("incidents opened", this["incidents"], last["incidents"], False, _count),
        ("incidents acknowledged on time", this["on_time"], last["on_time"], True, _rate),
        ("P0/P1 post-mortems written", this["postmortems"], last["postmortems"], True, _rate),
        ("gates waived", len(report.total.waivers), len(before.total.waivers), False, _count),
        ("reviews held", this["reviews"], last["reviews"], True, _count),
    ]
    return tuple(
        Trend(name, None if old is None else float(old), None if new is None else float(new), up, show)
        for name, new, old, up, show in rows
    )


def _extra(ws: Workspace, period: Period, report: Report, now: datetime) -> dict[str, float | None]:
    """The figures the KPI report does not have: lead time, incident response, post-mortems, reviews held."""
    from opsctl.audit.query import window_events

    audit = ws.audit.path
    history = history_of(window_events(audit, MARKS, report.start), report)
    production = [n for n, e in ws.config.environments.items() if e.protected]
    lead = lead_times(ws.config.project_dir, history.deploys, production)
    incidents = incidents_in(audit, report.start, report.end)
    answered = [i.acknowledge_measure(now) for i in incidents]
    done = [m for m in answered if m.done]
    required = [i for i in incidents if i.policy.postmortem_required and i.resolved_at is not None]
    end = min(period.end, now)
    reviews = len(reviews_held(audit, period.start, end))
    return {
        "lead": fig.median_or_none([t.seconds for t in lead.found]),
        "incidents": float(len(incidents)),
        "on_time": sum(1 for m in done if not m.breached) / len(done) if done else None,
        "postmortems": sum(1 for i in required if i.postmortem) / len(required) if required else None,
        "reviews": float(reviews),
    }
