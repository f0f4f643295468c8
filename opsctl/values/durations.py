"""Durations as people write them in YAML and on the command line: ``30s``, ``5m``, ``2h``.

Every duration is bounded: ``99999999999999999999h`` is a typo, not a plan,
and unbounded values end in ``OverflowError`` far from the option that
caused them (``datetime - timedelta``, ``Event.wait``).
"""

from __future__ import annotations

import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
DURATION_PATTERN = r"^(\d+(\.\d+)?(ms|s|m|h|d))+$"
DURATION_HINT = "must be a duration like 30s or 5m"
_MAX_TEXT = 64  # longer than any sensible duration; keeps numbers far from float overflow

DAY = 86400.0
MAX_TIMEOUT = 30 * DAY  # timeouts, intervals, TTLs, windows: nothing opsctl waits for takes longer
MAX_SPAN = 36500 * DAY  # how far back a query may look (~100 years); also the ceiling of every duration


class DurationError(ValueError):
    """A duration that is malformed or out of bounds; the message is a hint like :data:`DURATION_HINT`."""


def parse_duration(text: str | int | float, *, maximum: float = MAX_SPAN, allow_zero: bool = True) -> float:
    """Return seconds for ``90s``, ``15m``, ``1h30m``; a bare number means seconds.

    Raises :class:`DurationError` (a ValueError) with :data:`DURATION_HINT` for
    anything malformed, ``must be longer than 0`` for zero when
    ``allow_zero`` is false, and ``must be at most <maximum>`` above
    ``maximum`` (default :data:`MAX_SPAN`; see :func:`parse_timeout` for waits).
    """
    seconds = _seconds(text)
    if seconds == 0 and not allow_zero:
        raise DurationError("must be longer than 0")
    if seconds > maximum:
        raise DurationError(f"must be at most {_whole(maximum)}")
    return seconds


def parse_timeout(text: str | int | float) -> float:
    """A positive duration of at most :data:`MAX_TIMEOUT` (30 days), for anything opsctl waits for.

    Zero is refused rather than read as "no timeout": ``--timeout 0s`` used
    to fall back silently to the 15 minute default.
    """
    return parse_duration(text, maximum=MAX_TIMEOUT, allow_zero=False)


def _seconds(text: str | int | float) -> float:
    if isinstance(text, bool):
        raise DurationError(DURATION_HINT)
    if isinstance(text, int | float):
        if text < 0 or not math.isfinite(text):
            raise DurationError(DURATION_HINT)
        return float(text)
    value = str(text).strip().lower()
    if len(value) > _MAX_TEXT or not re.fullmatch(DURATION_PATTERN, value):
        raise DurationError(DURATION_HINT)
    return math.fsum(float(n) * _UNITS[unit] for n, unit in _PART.findall(value))


def _whole(seconds: float) -> str:
    """A bound as written in a message: ``30d``, ``36500d``, ``12h``, ``90s``."""
    for unit, size in (("d", DAY), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def format_duration(seconds: float) -> str:
    """Render seconds the way a person reads them: ``850ms``, ``12.3s``, ``4m05s``, ``2h10m``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        minutes, rest = divmod(int(seconds), 60)
        return f"{minutes}m{rest:02d}s"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m"
