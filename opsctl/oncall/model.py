"""The on-call at one moment: who is primary, secondary and the escalation, and when it changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

LEVEL_NAMES = {1: "primary", 2: "secondary", 3: "escalation"}


@dataclass(frozen=True)
class Person:
    """Someone on call: a display name and, when known, an email address."""

    name: str
    email: str | None = None

    @property
    def label(self) -> str:
        """``Ana (ana@example.com)``, or the one of them that is known."""
        if self.email and self.name != self.email:
            return f"{self.name} ({self.email})"
        return self.name

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "email": self.email}


@dataclass(frozen=True)
class OnCall:
    """Who is on call at ``at`` (UTC) and where that came from (``pagerduty`` or ``rotation``)."""

    at: datetime
    source: str
    primary: tuple[Person, ...]
    secondary: tuple[Person, ...]
    escalation: Person | None
    next_handoff: datetime | None
    timezone: str | None = None

    def level(self, number: int) -> tuple[Person, ...]:
        """The people of escalation level ``number`` (1 primary, 2 secondary, 3 the escalation contact)."""
        if number == 1:
            return self.primary
        if number == 2:
            return self.secondary
        if number == 3:
            return (self.escalation,) if self.escalation else ()
        return ()

    @property
    def last_level(self) -> int:
        return 3 if self.escalation else 2

    @property
    def primary_text(self) -> str:
        return ", ".join(p.label for p in self.primary) or "nobody"

    def as_dict(self) -> dict[str, Any]:
        from opsctl.audit.line import format_ts

        return {
            "at": format_ts(self.at),
            "source": self.source,
            "primary": [p.as_dict() for p in self.primary],
            "secondary": [p.as_dict() for p in self.secondary],
            "escalation": self.escalation.as_dict() if self.escalation else None,
            "next_handoff": format_ts(self.next_handoff) if self.next_handoff else None,
            "timezone": self.timezone,
        }
