"""Error budget arithmetic, as the Google SRE workbook defines it.

With an objective of 99.9 % over 30 days the error budget is 0.1 % of the
period's requests, or 43.2 minutes of full downtime. The *burn rate* is how
fast the budget goes, relative to spending exactly all of it by the end of the
period: an error rate of 1.44 % burns at 14.4x, and 14.4x kept up for one hour
spends 14.4 h / 720 h = 2 % of a 30-day budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EPSILON = 1e-9  # a billionth of a budget: rounding, not requests


def error_budget(objective: float) -> float:
    """The share of requests allowed to fail: 1 - objective (0.001 for 99.9 %)."""
    return 1.0 - objective


def budget_minutes(objective: float, period_s: float) -> float:
    """The budget as minutes of full downtime over the period: 99.9 % of 30 days -> 43.2."""
    return error_budget(objective) * period_s / 60.0


def burn_rate(error_rate: float, objective: float) -> float:
    """``error_rate / (1 - objective)``: 1.0 spends the budget exactly over the period."""
    return error_rate / error_budget(objective)


def budget_consumed(rate: float, window_s: float, period_s: float) -> float:
    """The fraction of the period's budget a burn of ``rate`` over ``window_s`` spends: 14.4x for 1h of 30d -> 0.02."""
    return rate * window_s / period_s


@dataclass(frozen=True)
class Counts:
    """Requests in a window: all of them and the bad ones (5xx). Counter increases, so not always whole numbers."""

    total: float
    bad: float

    @property
    def error_rate(self) -> float | None:
        """bad / total, held to [0, 1]; None without traffic (no requests: no rate, not a perfect one)."""
        if self.total <= 0:
            return None
        # Clamped: CloudWatch's ELB 5XX count is not part of RequestCount, and counter resets can
        # make an increase() slightly off; a share of requests is never below 0 or above 1.
        return min(1.0, max(0.0, self.bad / self.total))


@dataclass(frozen=True)
class Budget:
    """An objective's error budget over one period, from the period's request counts."""

    objective: float
    period_s: float
    counts: Counts

    @property
    def availability(self) -> float | None:
        """Good requests / all requests; None without traffic."""
        rate = self.counts.error_rate
        return None if rate is None else 1.0 - rate

    @property
    def total_minutes(self) -> float:
        return budget_minutes(self.objective, self.period_s)

    @property
    def spent(self) -> float | None:
        """The fraction of the budget spent: the period's burn rate. Above 1 when overspent."""
        rate = self.counts.error_rate
        return None if rate is None else burn_rate(rate, self.objective)

    @property
    def remaining(self) -> float | None:
        """1 - spent; negative when the budget is overspent (how far over is worth seeing)."""
        spent = self.spent
        return None if spent is None else 1.0 - spent

    @property
    def spent_minutes(self) -> float | None:
        spent = self.spent
        return None if spent is None else spent * self.total_minutes

    @property
    def remaining_minutes(self) -> float | None:
        remaining = self.remaining
        return None if remaining is None else remaining * self.total_minutes

    @property
    def exhausted(self) -> bool:
        """Nothing left to spend. Without traffic nothing was spent: not exhausted."""
        remaining = self.remaining
        # 1 - 0.999 is not exactly 0.001 in floating point: an exactly spent budget must count as spent.
        return remaining is not None and remaining <= EPSILON

    def as_dict(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "period_s": self.period_s,
            "requests": self.counts.total,
            "errors": self.counts.bad,
            "availability": self.availability,
            "total_minutes": self.total_minutes,
            "spent_minutes": self.spent_minutes,
            "remaining_minutes": self.remaining_minutes,
            "spent": self.spent,
            "remaining": self.remaining,
            "exhausted": self.exhausted,
        }
