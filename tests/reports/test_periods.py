"""Review periods: ISO weeks, months and quarters in UTC; the last complete one by default; bad input in one line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opsctl.errors import BadInput
from opsctl.reports.periods import period_of

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # a Friday in 2026-W48, November, Q4


def test_defaults_are_the_last_complete_periods() -> None:
    assert [
        (p.label, p.start.isoformat(), p.end.isoformat())
        for p in (period_of("weekly", None, NOW), period_of("monthly", None, NOW), period_of("quarterly", None, NOW))
    ] == [
        ("2026-W47", "2026-11-16T00:00:00+00:00", "2026-11-23T00:00:00+00:00"),
        ("2026-10", "2026-10-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00"),
        ("2026-Q3", "2026-07-01T00:00:00+00:00", "2026-10-01T00:00:00+00:00"),
    ]


def test_named_periods_and_the_one_before() -> None:
    week = period_of("weekly", "2026-w01", NOW)
    assert (week.start.date().isoformat(), week.previous().label) == ("2025-12-29", "2025-W52")
    assert period_of("monthly", "2026-1", NOW).previous().label == "2025-12"
    quarter = period_of("quarterly", "2026-Q4", NOW)
    assert (quarter.end.isoformat(), quarter.previous().label) == ("2027-01-01T00:00:00+00:00", "2026-Q3")


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("weekly", "2026-11", "--period '2026-11' is not a weekly period (write it like 2026-W47)"),
        ("weekly", "2026-W54", "--period '2026-W54' is not a weekly period (write it like 2026-W47)"),
        ("monthly", "2026-13", "--period '2026-13' is not a monthly period (write it like 2026-11)"),
        ("quarterly", "2026-Q5", "--period '2026-Q5' is not a quarterly period (write it like 2026-Q3)"),
        ("monthly", "2027-01", "--period 2027-01 has not started yet (now is 2026-11-27 12:00 UTC)"),
        ("yearly", None, "unknown review 'yearly' (use weekly, monthly or quarterly)"),
    ],
)
def test_bad_periods(kind: str, text: str | None, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        period_of(kind, text, NOW)
    assert str(caught.value) == message
