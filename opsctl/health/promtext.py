"""A strict-enough reader of the Prometheus text exposition format (``GET /metrics``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r"(?P<labels>\{.*\})?"
    r"\s+(?P<value>\S+)"
    r"(?:\s+(?P<ts>-?\d+))?\s*$"
)
_SPECIAL = {"nan", "+inf", "-inf", "inf"}


class ExpositionError(ValueError):
    """The body is not Prometheus text; the message names the line."""


@dataclass(frozen=True)
class Exposition:
    samples: dict[str, int]  # metric name -> number of samples

    @property
    def sample_count(self) -> int:
        return sum(self.samples.values())


def parse_exposition(text: str) -> Exposition:
    """Count the samples per metric name; raise ExpositionError at the first unreadable line."""
    samples: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None or not _is_number(match["value"]):
            shown = line if len(line) <= 60 else line[:57] + "..."
            raise ExpositionError(f"line {number} is not a Prometheus sample: {shown!r}")
        samples[match["name"]] = samples.get(match["name"], 0) + 1
    return Exposition(samples)


def _is_number(value: str) -> bool:
    if value.lower() in _SPECIAL:
        return True
    try:
        float(value)
    except ValueError:
        return False
    return True
