"""Durations as people write them in YAML and on the command line: ``30s``, ``5m``, ``2h``."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
DURATION_PATTERN = r"^(\d+(\.\d+)?(ms|s|m|h|d))+$"
DURATION_HINT = "must be a duration like 30s or 5m"


def parse_duration(text: str | int | float) -> float:
    """Return seconds for ``90s``, ``15m``, ``1h30m``; a bare number means seconds.

    Raises ValueError with :data:`DURATION_HINT` for anything else.
    """
    if isinstance(text, bool):
        raise ValueError(DURATION_HINT)
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(DURATION_HINT)
        return float(text)
    value = str(text).strip().lower()
    if not re.fullmatch(DURATION_PATTERN, value):
        raise ValueError(DURATION_HINT)
    return sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(value))


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
