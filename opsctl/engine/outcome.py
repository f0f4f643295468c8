"""What an action returns, and what the executor makes of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNED = "warned"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    """The result of one action: a status, a one-line summary, and details for JSON/audit."""

    status: Status
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, summary: str, **detail: Any) -> Outcome:
        return cls(Status.PASSED, summary, detail)

    @classmethod
    def failed(cls, summary: str, **detail: Any) -> Outcome:
        return cls(Status.FAILED, summary, detail)

    @classmethod
    def warned(cls, summary: str, **detail: Any) -> Outcome:
        return cls(Status.WARNED, summary, detail)

    @classmethod
    def skipped(cls, summary: str, **detail: Any) -> Outcome:
        return cls(Status.SKIPPED, summary, detail)

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAILED
