"""Durations are bounded: zero where it means nothing, and absurd sizes, are one clear ValueError."""

from __future__ import annotations

import math

import pytest

from opsctl.values.durations import (
    MAX_SPAN,
    MAX_TIMEOUT,
    DurationError,
    parse_duration,
    parse_timeout,
)


def test_the_bounds() -> None:
    assert MAX_TIMEOUT == 30 * 86400
    assert MAX_SPAN == 36500 * 86400


@pytest.mark.parametrize("text", ["99999999999999999999h", "36501d", "999999999d", 36500 * 86400 + 1])
def test_past_a_hundred_years_is_refused_by_default(text: str | int) -> None:
    with pytest.raises(DurationError, match=r"^must be at most 36500d$"):
        parse_duration(text)


@pytest.mark.parametrize(("text", "seconds"), [("36500d", MAX_SPAN), ("0s", 0.0), (0, 0.0), ("90d", 90 * 86400.0)])
def test_up_to_a_hundred_years_and_zero_are_fine_by_default(text: str | int, seconds: float) -> None:
    # `--since` keeps its own "must be longer than 0" message: zero is the caller's to refuse.
    assert parse_duration(text) == seconds


def test_the_caller_may_bound_tighter_and_refuse_zero() -> None:
    assert parse_duration("12h", maximum=12 * 3600) == 43200.0
    with pytest.raises(DurationError, match=r"^must be at most 12h$"):
        parse_duration("12h1s", maximum=12 * 3600)
    with pytest.raises(DurationError, match=r"^must be at most 90s$"):
        parse_duration("2m", maximum=90)
    with pytest.raises(DurationError, match=r"^must be at most 1.5s$"):
        parse_duration("2s", maximum=1.5)
    with pytest.raises(DurationError, match=r"^must be longer than 0$"):
        parse_duration("0ms", allow_zero=False)


@pytest.mark.parametrize(("text", "seconds"), [("15m", 900.0), ("30d", MAX_TIMEOUT), ("1ms", 0.001), (90, 90.0)])
def test_timeouts(text: str | int, seconds: float) -> None:
    assert parse_timeout(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0s", "must be longer than 0"),
        ("0m0s", "must be longer than 0"),
        (0, "must be longer than 0"),
        ("30d1s", "must be at most 30d"),
        ("99999999999999999999h", "must be at most 30d"),
        ("15 m", "must be a duration like 30s or 5m"),
    ],
)
def test_timeouts_refused(text: str | int, message: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_timeout(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "text",
    [math.inf, math.nan, -math.inf, "1" * 65 + "s", "9" * 400 + "d"],
    ids=["inf", "nan", "-inf", "too-long-text", "overflowing-digits"],
)
def test_non_finite_and_oversized_input_is_malformed(text: str | float) -> None:
    with pytest.raises(DurationError, match=r"^must be a duration like 30s or 5m$"):
        parse_duration(text)


def test_duration_error_is_a_value_error() -> None:
    # Callers (pydantic validators, CLI option parsers) catch ValueError.
    assert issubclass(DurationError, ValueError)
