"""Multiwindow, multi-burn-rate alerts (Google SRE workbook, "Alerting on SLOs", recommendation 6).

Each rule fires when the burn rate is above its threshold over BOTH a long
window (enough budget is really going) and a short one (it is still going
now, so the alert resets soon after the problem ends). The thresholds are the
workbook's for a 30-day budget: 14.4x over 1h spends 2 %, 6x over 6h spends
5 %, 1x over 3 days spends 10 %. The two page rules are the *fast burn* that
the error budget policy stops normal changes for; the ticket rule is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from opsctl.slo.budget import budget_consumed

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0

# The windows `opsctl slo` reports, and their names in output and JSON (window -> seconds).
WINDOWS: dict[str, float] = {"5m": 5 * MINUTE, "30m": 30 * MINUTE, "1h": HOUR, "6h": 6 * HOUR, "3d": 3 * DAY}


@dataclass(frozen=True)
class Rule:
    """Fire when the burn rate is above ``threshold`` over both ``long`` and ``short``."""

    long: str
    short: str
    threshold: float
    severity: Literal["page", "ticket"]

    @property
    def name(self) -> str:
        return f"{self.threshold:g}x over {self.long} and {self.short}"

    def consumed(self, period_s: float) -> float:
        """The budget fraction a burn at the threshold over the long window spends (0.02 for 14.4x/1h/30d)."""
        return budget_consumed(self.threshold, WINDOWS[self.long], period_s)


RULES: tuple[Rule, ...] = (
    Rule("1h", "5m", 14.4, "page"),
    Rule("6h", "30m", 6.0, "page"),
    Rule("3d", "6h", 1.0, "ticket"),
)


@dataclass(frozen=True)
class Alert:
    """One rule, evaluated against the burn rates."""

    rule: Rule
    long_rate: float | None
    short_rate: float | None

    @property
    def firing(self) -> bool:
        # No traffic in a window: no burn there, and nothing to alert on.
        if self.long_rate is None or self.short_rate is None:
            return False
        return self.long_rate > self.rule.threshold and self.short_rate > self.rule.threshold

    @property
    def fast_burn(self) -> bool:
        """A page-severity rule that fires: what the error budget policy stops normal changes for."""
        return self.firing and self.rule.severity == "page"

    def describe(self) -> str:
        """``burn 15.0x over 1h and 16.2x over 5m (page above 14.4x)``."""
        return (
            f"burn {_rate(self.long_rate)} over {self.rule.long} and {_rate(self.short_rate)} over "
            f"{self.rule.short} ({self.rule.severity} above {self.rule.threshold:g}x)"
        )

    def as_dict(self, period_s: float) -> dict[str, Any]:
        return {
            "rule": self.rule.name,
            "severity": self.rule.severity,
            "long_window": self.rule.long,
            "short_window": self.rule.short,
            "threshold": self.rule.threshold,
            "budget_consumed_at_threshold": self.rule.consumed(period_s),
            "long_rate": self.long_rate,
            "short_rate": self.short_rate,
            "firing": self.firing,
        }


def evaluate(rates: Mapping[str, float | None], rules: tuple[Rule, ...] = RULES) -> tuple[Alert, ...]:
    """Every rule against ``rates`` (window name -> burn rate, None without traffic)."""
    return tuple(Alert(rule, rates.get(rule.long), rates.get(rule.short)) for rule in rules)


def _rate(rate: float | None) -> str:
    return "no traffic" if rate is None else f"{rate:.1f}x"
