"""``parse_since``: one parser for the ``--since`` of ``audit show``, ``report`` and ``runs``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opsctl.audit.query import parse_since
from opsctl.errors import BadInput, ExitCode

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
HINT = "must be a duration like 30d, 12h or 90m, or a date like 2026-11-01 or 2026-11-01T09:30Z"


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("30d", NOW - timedelta(days=30)),
        ("12h", NOW - timedelta(hours=12)),
        ("90m", NOW - timedelta(minutes=90)),
        ("1h30m", NOW - timedelta(minutes=90)),
        (" 7d ", NOW - timedelta(days=7)),
        ("36500d", NOW - timedelta(days=36500)),  # the bound itself is fine
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T09:30Z", datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
        ("2026-11-01T09:30", datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),  # no zone: UTC, as in the log
        ("2026-11-01T10:30+01:00", datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_durations_and_moments(text: str, start: datetime) -> None:
    found = parse_since(text, NOW)
    assert found == start
    assert found.tzinfo is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("soon", f"--since soon: {HINT}"),
        ("30", f"--since 30: {HINT}"),
        ("", f"--since : {HINT}"),
        ("-5d", f"--since -5d: {HINT}"),
        ("7 days", f"--since 7 days: {HINT}"),
        ("2026-13-01", f"--since 2026-13-01: {HINT}"),
        ("0d", "--since 0d: must be longer than 0"),
        ("0s", "--since 0s: must be longer than 0"),
        ("999999999d", "--since 999999999d: must be at most 100 years (36500d)"),
        ("99999999999999999999h", "--since 99999999999999999999h: must be at most 100 years (36500d)"),
        ("1" + "0" * 400 + "d", "--since 1" + "0" * 400 + "d: must be at most 100 years (36500d)"),  # inf seconds
        ("36501d", "--since 36501d: must be at most 100 years (36500d)"),
        ("2026-11-27T12:00Z", "--since 2026-11-27T12:00Z: must be in the past"),
        ("2030-01-01", "--since 2030-01-01: must be in the past"),
        ("1900-01-01", "--since 1900-01-01: must be at most 100 years (36500d) ago"),
        ("0001-01-01T00:00+01:00", "--since 0001-01-01T00:00+01:00: must be at most 100 years (36500d) ago"),
    ],
)
def test_bad_values_are_one_clear_line_exit_2(text: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_since(text, NOW)
    assert str(caught.value) == message
    assert caught.value.exit_code == ExitCode.BAD_INPUT == 2
