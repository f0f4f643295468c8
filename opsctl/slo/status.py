"""One environment's error budget now: the period's availability and budget, burn rates, alerts, a series to chart.

What ``opsctl slo ENV`` shows and what the error budget policy gate
(``opsctl.runs.budget``) decides on. Nothing here prints or journals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput
from opsctl.slo.alerts import WINDOWS, Alert, evaluate
from opsctl.slo.budget import Budget, burn_rate
from opsctl.slo.sources import no_source_message, open_source
from opsctl.values.durations import format_duration

if TYPE_CHECKING:
    from opsctl.health.context import ProbeContext
    from opsctl.slo.counts import CounterSource

CHART_POINTS = 30  # one a day over 30 days: a chart that fits one line of a terminal


@dataclass(frozen=True)
class SloStatus:
    """The figures of one environment at ``at``."""

    env: str
    source: str  # prometheus | cloudwatch
    source_label: str
    policy: str
    at: datetime
    budget: Budget
    burn_rates: dict[str, float | None]  # window name (5m, 30m, 1h, 6h, 3d) -> burn rate; None without traffic
    alerts: tuple[Alert, ...]
    over_time: tuple[tuple[datetime, float], ...] = ()  # (moment, budget remaining then), oldest first

    @property
    def fast_burn(self) -> tuple[Alert, ...]:
        """The page-severity alerts that fire."""
        return tuple(a for a in self.alerts if a.fast_burn)

    @property
    def healthy(self) -> bool:
        """Budget left and no fast burn: what a normal change needs under ``slo.policy: enforce``."""
        return not self.budget.exhausted and not self.fast_burn

    def figures(self) -> str:
        """The budget in one line: ``error budget 112.5% spent (48.6 of 43.2 min at 99.9% over 30d), ...``."""
        budget = self.budget
        if budget.spent is None or budget.spent_minutes is None:
            return f"no requests counted over {period_text(budget.period_s)} ({self.source_label})"
        return (
            f"error budget {budget.spent:.1%} spent ({budget.spent_minutes:.1f} of {budget.total_minutes:.1f} min "
            f"at {objective_text(budget.objective)} over {period_text(budget.period_s)}), "
            f"availability {availability_text(budget.availability)}"
        )

    def problems(self) -> list[str]:
        """Why the budget stops normal changes: exhausted, and each fast burn with its rates."""
        found = [f"budget exhausted: {self.figures()}"] if self.budget.exhausted else []
        found += [f"fast burn: {a.describe()}" for a in self.fast_burn]
        return found

    def as_dict(self) -> dict[str, Any]:
        budget = self.budget
        return {
            "env": self.env,
            "at": self.at.isoformat(),
            "source": self.source,
            "source_label": self.source_label,
            "policy": self.policy,
            "objective": budget.objective,
            "period": period_text(budget.period_s),
            "period_s": budget.period_s,
            "requests": budget.counts.total,
            "errors": budget.counts.bad,
            "availability": budget.availability,
            "budget_remaining": budget.remaining,
            "budget": budget.as_dict(),
            "burn_rates": dict(self.burn_rates),
            "alerts": [a.as_dict(budget.period_s) for a in self.alerts],
            "fast_burn": bool(self.fast_burn),
            "exhausted": budget.exhausted,
            "budget_over_time": [{"at": moment.isoformat(), "remaining": left} for moment, left in self.over_time],
        }


def read_status(ctx: ProbeContext, *, chart: bool = True) -> SloStatus:
    """Ask the environment's source; BadInput when it has none, Unavailable when it cannot answer."""
    source = open_source(ctx)
    if source is None:
        raise BadInput(no_source_message(ctx.env_name))
    try:
        return _read(ctx, source, chart=chart)
    finally:
        source.close()


def _read(ctx: ProbeContext, source: CounterSource, *, chart: bool) -> SloStatus:
    slo = ctx.config.slo
    now = ctx.clock()
    budget = Budget(slo.availability, slo.period, source.counts(slo.period, now))
    rates: dict[str, float | None] = {}
    for name, seconds in WINDOWS.items():
        rate = source.counts(seconds, now).error_rate
        rates[name] = None if rate is None else burn_rate(rate, slo.availability)
    over_time = _over_time(source, budget, now) if chart else ()
    return SloStatus(
        str(ctx.env_name), source.kind, source.label, slo.policy, now, budget, rates, evaluate(rates), over_time
    )


def _over_time(source: CounterSource, budget: Budget, now: datetime) -> tuple[tuple[datetime, float], ...]:
    """The budget left at the end of each of :data:`CHART_POINTS` buckets of the period.

    The period's own figure is spread over the buckets in proportion to their
    bad requests, so the last point is exactly ``budget.remaining`` (a range
    query's rounding never makes the chart disagree with the number beside it).
    """
    spent = budget.spent
    if spent is None:
        return ()
    step = budget.period_s / CHART_POINTS
    start = now - timedelta(seconds=budget.period_s)
    per_bucket = [0.0] * CHART_POINTS
    for end_of, bad in source.bad_series(start, now, step):
        index = math.ceil((end_of - start).total_seconds() / step - 1e-6)
        per_bucket[min(CHART_POINTS, max(1, index)) - 1] += max(0.0, bad)
    total_bad = sum(per_bucket)
    points: list[tuple[datetime, float]] = []
    running = 0.0
    for k, bad in enumerate(per_bucket, start=1):
        running += bad
        share = running / total_bad if total_bad > 0 else 1.0
        points.append((start + timedelta(seconds=k * step), 1.0 - spent * share))
    return tuple(points)


def period_text(seconds: float) -> str:
    """``30d``, ``28d``, ``12h``: a period as written in opsctl.yaml."""
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{int(seconds // 86400)}d"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    return format_duration(seconds)


def objective_text(objective: float) -> str:
    """``99.9%``, ``99.95%``: as many decimals as the objective has."""
    return f"{objective * 100:.6f}".rstrip("0").rstrip(".") + "%"


def availability_text(availability: float | None) -> str:
    return "-" if availability is None else f"{availability * 100:.4f}%"
