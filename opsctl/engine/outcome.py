"""What an action returns, and what the executor makes of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """An item's or step's verdict, as the audit log, ``--json`` and the views spell it.

    ``skipped``: not run (a non-blocking item a person skipped, a change in a dry
    run, an item whose ``needs`` failed); ``waived``: a manual gate not done but let
    through by a waiver (``--waive ID --reason TEXT --approved-by NAME``);
    ``not_applicable``: its ``when`` condition is false, so it has nothing to check.
    """

    PASSED = "passed"
    FAILED = "failed"
    WARNED = "warned"
    SKIPPED = "skipped"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"


# How a count of each status reads in a one-line summary ("6 not applicable").
LABELS = {Status.NOT_APPLICABLE.value: "not applicable"}


def describe_counts(counts: Mapping[str, int]) -> str:
    """``"3 passed, 1 waived, 6 not applicable"``: the non-zero counts, in words."""
    return ", ".join(f"{n} {LABELS.get(k, k)}" for k, n in counts.items() if n)


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

    @classmethod
    def waived(cls, summary: str, **detail: Any) -> Outcome:
        return cls(Status.WAIVED, summary, detail)

    @classmethod
    def not_applicable(cls, summary: str, **detail: Any) -> Outcome:
        return cls(Status.NOT_APPLICABLE, summary, detail)

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAILED
