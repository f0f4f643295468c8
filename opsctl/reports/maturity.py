"""``opsctl maturity``: the seed's Level 1 / 2 / 3 framework, scored from what opsctl can see.

Each criterion of a level is ``met``, ``not met`` or ``no evidence`` (opsctl
cannot tell either way, e.g. no incident happened), with the evidence it
looked at and the next step. A level is reached when every criterion of it
and of the levels below is met; ``no evidence`` does not count as met. A
criterion opsctl can never observe (tracing) is listed for a person to judge
and left out of the level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Status = Literal["met", "not met", "no evidence"]

LEVELS = {
    1: "Basic Operations",
    2: "Structured Operations",
    3: "Advanced Operations",
}


@dataclass(frozen=True)
class Criterion:
    """One line of the framework, judged."""

    key: str
    level: int
    title: str  # the seed's words
    status: Status
    evidence: str
    next_step: str = ""
    observable: bool = True  # False: opsctl cannot see it; a person judges it

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "level": self.level,
            "title": self.title,
            "status": self.status,
            "evidence": self.evidence,
            "next_step": self.next_step or None,
            "observable": self.observable,
        }


@dataclass(frozen=True)
class Assessment:
    """Every criterion, and the level they reach together."""

    service: str
    generated_at: datetime
    since_days: float
    criteria: tuple[Criterion, ...]

    @property
    def level(self) -> int:
        """The highest level whose criteria (and those of every level below) are all met; 0 below Level 1."""
        reached = 0
        for level in sorted(LEVELS):
            judged = [c for c in self.criteria if c.level == level and c.observable]
            if not judged or any(c.status != "met" for c in judged):
                break
            reached = level
        return reached

    @property
    def level_name(self) -> str:
        return f"Level {self.level}: {LEVELS[self.level]}" if self.level else "below Level 1"

    def next_level(self) -> tuple[int, list[Criterion]] | None:
        """The next level and what stands in its way (None at Level 3)."""
        if self.level >= max(LEVELS):
            return None
        target = self.level + 1
        return target, [c for c in self.criteria if c.level == target and c.observable and c.status != "met"]

    def as_dict(self) -> dict[str, Any]:
        ahead = self.next_level()
        return {
            "version": 1,
            "service": self.service,
            "generated_at": self.generated_at.isoformat().replace("+00:00", "Z"),
            "since_days": self.since_days,
            "level": self.level,
            "level_name": self.level_name,
            "next_level": None
            if ahead is None
            else {"level": ahead[0], "name": LEVELS[ahead[0]], "missing": [c.key for c in ahead[1]]},
            "criteria": [c.as_dict() for c in self.criteria],
        }
