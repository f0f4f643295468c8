"""Error budget spent per SLO period, for ``opsctl report`` (next to the change failure rate).

The report's window is cut into SLO periods ending at its end (a 90-day
report with ``slo.period: 30d`` has three), newest first; each is asked of the
environment's source as one count over the period. At most
:data:`MAX_PERIODS`: a source rarely keeps more, and a report must stay quick.
A source that cannot answer gives a row saying why; it never fails the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from opsctl.errors import OpsctlError
from opsctl.slo.budget import Budget
from opsctl.slo.context import EnvLook
from opsctl.slo.sources import has_source, open_source

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from opsctl.config import Config
    from opsctl.values.redact import Redactor

MAX_PERIODS = 12


@dataclass(frozen=True)
class PeriodBudget:
    """One SLO period's budget; ``budget`` None when the source could not say (``why``)."""

    start: datetime
    end: datetime
    budget: Budget | None
    why: str = ""

    @property
    def spent_text(self) -> str:
        """``60.0%``; ``-`` without traffic; ``?`` when the source failed."""
        if self.budget is None:
            return "?"
        spent = self.budget.spent
        return "-" if spent is None else f"{spent:.1%}"

    def as_dict(self) -> dict[str, Any]:
        figures = self.budget
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "availability": None if figures is None else figures.availability,
            "budget_spent": None if figures is None else figures.spent,
            "budget_remaining": None if figures is None else figures.remaining,
            "requests": None if figures is None else figures.counts.total,
            "errors": None if figures is None else figures.counts.bad,
            "error": self.why or None,
        }


def report_budgets(
    config: Config,
    redactor: Redactor,
    clock: Callable[[], datetime],
    environments: Iterable[str],
    *,
    start: datetime,
    end: datetime,
) -> dict[str, tuple[PeriodBudget, ...]]:
    """Each environment with a source of request counts -> its periods, newest first."""
    found: dict[str, tuple[PeriodBudget, ...]] = {}
    for name in environments:
        look = EnvLook(config, name, redactor, clock)
        if has_source(look):
            found[name] = budget_per_period(look, start, end)
    return found


def budget_per_period(look: EnvLook, start: datetime, end: datetime) -> tuple[PeriodBudget, ...]:
    slo = look.config.slo
    span = max(0.0, (end - start).total_seconds())
    count = max(1, min(MAX_PERIODS, math.ceil(span / slo.period - 1e-9)))
    periods: list[PeriodBudget] = []
    try:
        source = open_source(look)
    except OpsctlError as exc:
        return (PeriodBudget(end - timedelta(seconds=slo.period), end, None, str(exc)),)
    if source is None:
        return ()
    try:
        for k in range(count):
            period_end = end - timedelta(seconds=k * slo.period)
            period_start = period_end - timedelta(seconds=slo.period)
            try:
                counts = source.counts(slo.period, period_end)
            except OpsctlError as exc:
                periods.append(PeriodBudget(period_start, period_end, None, str(exc)))
                break  # the next period would fail the same way, after the same timeout
            periods.append(PeriodBudget(period_start, period_end, Budget(slo.availability, slo.period, counts)))
    finally:
        source.close()
    return tuple(periods)
