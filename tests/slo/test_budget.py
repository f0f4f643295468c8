"""The budget and burn-rate arithmetic against the Google SRE workbook's worked examples."""

from __future__ import annotations

import pytest

from opsctl.slo.alerts import RULES, WINDOWS, evaluate
from opsctl.slo.budget import Budget, Counts, budget_consumed, budget_minutes, burn_rate, error_budget

DAY = 86400.0
HOUR = 3600.0
PERIOD = 30 * DAY


def test_99_9_percent_over_30_days_is_43_2_minutes() -> None:
    assert error_budget(0.999) == pytest.approx(0.001)
    assert budget_minutes(0.999, PERIOD) == pytest.approx(43.2)
    assert budget_minutes(0.9999, PERIOD) == pytest.approx(4.32)
    assert budget_minutes(0.999, 28 * DAY) == pytest.approx(40.32)


def test_burn_rate_is_error_rate_over_the_budget() -> None:
    assert burn_rate(0.001, 0.999) == pytest.approx(1.0)  # spends the budget exactly over the period
    assert burn_rate(0.0144, 0.999) == pytest.approx(14.4)
    assert burn_rate(0.0, 0.999) == 0.0


def test_14_4x_for_an_hour_spends_2_percent_and_6x_for_6_hours_5_percent() -> None:
    assert budget_consumed(14.4, HOUR, PERIOD) == pytest.approx(0.02)
    assert budget_consumed(6.0, 6 * HOUR, PERIOD) == pytest.approx(0.05)
    assert budget_consumed(1.0, 3 * DAY, PERIOD) == pytest.approx(0.10)
    assert [round(rule.consumed(PERIOD), 4) for rule in RULES] == [0.02, 0.05, 0.10]


def test_a_whole_period_budget_from_counts() -> None:
    # 1,000,000 requests in 30 days, 600 failed: 99.94 % available, 60 % of a 99.9 % budget spent.
    budget = Budget(0.999, PERIOD, Counts(1_000_000, 600))
    assert budget.availability == pytest.approx(0.9994)
    assert budget.spent == pytest.approx(0.6)
    assert budget.remaining == pytest.approx(0.4)
    assert budget.total_minutes == pytest.approx(43.2)
    assert budget.spent_minutes == pytest.approx(25.92)
    assert budget.remaining_minutes == pytest.approx(17.28)
    assert budget.exhausted is False


def test_an_overspent_budget_goes_negative_and_is_exhausted() -> None:
    budget = Budget(0.999, PERIOD, Counts(1_000_000, 1_500))
    assert budget.spent == pytest.approx(1.5)
    assert budget.remaining == pytest.approx(-0.5)
    assert budget.remaining_minutes == pytest.approx(-21.6)
    assert budget.exhausted is True
    assert Budget(0.999, PERIOD, Counts(1_000_000, 1_000)).exhausted is True  # exactly spent is spent


def test_no_traffic_is_no_figure_not_a_perfect_one() -> None:
    budget = Budget(0.999, PERIOD, Counts(0, 0))
    assert (budget.availability, budget.spent, budget.remaining, budget.exhausted) == (None, None, None, False)
    assert budget.as_dict()["total_minutes"] == pytest.approx(43.2)


def test_error_rate_is_held_between_0_and_1() -> None:
    # CloudWatch's ELB 5XX are outside RequestCount: more bad than counted requests is still 100 % bad.
    assert Counts(10, 12).error_rate == 1.0
    assert Counts(10, -1).error_rate == 0.0


def test_windows_reported() -> None:
    assert WINDOWS == {"5m": 300.0, "30m": 1800.0, "1h": HOUR, "6h": 6 * HOUR, "3d": 3 * DAY}


@pytest.mark.parametrize(
    ("rates", "firing"),
    [
        ({"5m": 15.0, "1h": 14.5, "30m": 0.0, "6h": 0.0, "3d": 0.0}, ["14.4x over 1h and 5m"]),
        # The long window alone is not enough: the burn has stopped (the short window says so).
        ({"5m": 1.0, "1h": 20.0, "30m": 0.0, "6h": 0.0, "3d": 0.0}, []),
        # The short window alone is a blip, not enough budget to page for.
        ({"5m": 50.0, "1h": 2.0, "30m": 0.0, "6h": 0.0, "3d": 0.0}, []),
        ({"5m": 0.0, "1h": 0.0, "30m": 7.0, "6h": 6.5, "3d": 0.0}, ["6x over 6h and 30m"]),
        ({"5m": 0.0, "1h": 0.0, "30m": 0.0, "6h": 1.5, "3d": 1.2}, ["1x over 3d and 6h"]),
        ({"5m": 14.4, "1h": 14.4, "30m": 0.0, "6h": 0.0, "3d": 0.0}, []),  # at the threshold: not above it
        ({"5m": None, "1h": 30.0, "30m": None, "6h": 30.0, "3d": None}, []),  # no traffic now: nothing burns
    ],
    ids=["fast-1h", "long-only", "short-only", "fast-6h", "slow-3d", "at-threshold", "no-traffic"],
)
def test_multiwindow_rules_fire_only_when_both_windows_burn(rates: dict[str, float | None], firing: list[str]) -> None:
    alerts = evaluate(rates)
    assert [a.rule.name for a in alerts if a.firing] == firing
    assert [a.rule.name for a in alerts if a.fast_burn] == [n for n in firing if not n.startswith("1x")]


def test_an_alert_describes_itself_with_its_rates() -> None:
    (fast, _, _) = evaluate({"5m": 16.25, "1h": 15.0})
    assert fast.describe() == "burn 15.0x over 1h and 16.2x over 5m (page above 14.4x)"
    (_, slow, _) = evaluate({})
    assert slow.describe() == "burn no traffic over 6h and no traffic over 30m (page above 6x)"
