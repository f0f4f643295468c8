"""``--since``: how far back a command looks, as a duration (``30d``, ``12h``) or a moment (ISO 8601).

One parser for ``audit show``, ``report`` and ``runs``, so the same words
mean the same window everywhere and every bad value fails the same way: one
line, exit 2 (never an OverflowError from a window of a billion days).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from opsctl.errors import BadInput

MAX_SINCE = timedelta(days=36500)  # about 100 years: older than any audit log, far from datetime's limits
SINCE_HINT = "must be a duration like 30d, 12h or 90m, or a date like 2026-11-01 or 2026-11-01T09:30Z"


def parse_since(text: str, now: datetime) -> datetime:
    """The start of the window ``--since text`` names, ending at ``now`` (BadInput, one line, otherwise).

    A moment without a zone is UTC, like every time in the audit log.
    """
    value = text.strip()
    seconds = _seconds(value)
    if seconds is not None:
        if seconds <= 0:
            raise BadInput(f"--since {text}: must be longer than 0")
        if seconds > MAX_SINCE.total_seconds():  # checked before timedelta(), which overflows on huge values
            raise BadInput(f"--since {text}: must be at most 100 years (36500d)")
        return now - timedelta(seconds=seconds)
    start = _moment(value)
    if start is None:
        raise BadInput(f"--since {text}: {SINCE_HINT}")
    if start >= now:
        raise BadInput(f"--since {text}: must be in the past")
    if now - start > MAX_SINCE:
        raise BadInput(f"--since {text}: must be at most 100 years (36500d) ago")
    return start


def _seconds(text: str) -> float | None:
    """The seconds of a duration, or None when ``text`` is not written as one."""
    from opsctl.values.durations import DURATION_PATTERN, parse_duration

    if not re.fullmatch(DURATION_PATTERN, text.lower()):
        return None
    try:
        return parse_duration(text)
    except (ValueError, OverflowError):  # well-formed, so only its size can be wrong: the parser bounds it too
        return math.inf


def _moment(text: str) -> datetime | None:
    if not text[:4].isdigit():  # fromisoformat also reads odd forms; a date starts with its year
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC: before the first representable moment, so far too far back
        return datetime.min.replace(tzinfo=UTC)
