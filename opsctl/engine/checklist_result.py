"""What a checklist run returns: one result per item and the checklist's verdict (for the view, --json, the log)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsctl.engine.outcome import LABELS, Status


@dataclass(frozen=True)
class ItemResult:
    """One item's outcome, how long it took and how many attempts it needed."""

    id: str
    title: str
    uses: str
    status: Status
    summary: str
    blocking: bool
    duration_s: float = 0.0
    attempts: int = 1
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def blocks(self) -> bool:
        return self.blocking and self.status is Status.FAILED

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "uses": self.uses,
            "status": self.status.value,
            "summary": self.summary,
            "blocking": self.blocking,
            "duration_ms": round(self.duration_s * 1000),
            "attempts": self.attempts,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ChecklistResult:
    """Every item's result, in the file's order; the checklist fails when a blocking item failed."""

    name: str
    title: str
    items: tuple[ItemResult, ...]
    duration_s: float

    @property
    def status(self) -> Status:
        if any(i.blocks for i in self.items):
            return Status.FAILED
        # A waived gate let the run go ahead without it: worth a warning, every time.
        if any(i.status in (Status.WARNED, Status.FAILED, Status.WAIVED) for i in self.items):
            return Status.WARNED
        return Status.PASSED

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAILED

    def counts(self) -> dict[str, int]:
        """Items per status (every status, zeros included): what the journal and ``--json`` record."""
        counts = {s.value: 0 for s in Status}
        for item in self.items:
            counts[item.status.value] += 1
        return counts

    def describe_counts(self) -> str:
        """``"3 passed, 1 waived, 1 skipped (non-blocking), 6 not applicable"``: the summary's counts, in words."""
        tally: dict[str, int] = {}
        for item in self.items:
            label = LABELS.get(item.status.value, item.status.value)
            if item.status is Status.SKIPPED and not item.blocking:
                label = "skipped (non-blocking)"
            tally[label] = tally.get(label, 0) + 1
        order = [LABELS.get(s.value, s.value) for s in Status]
        order.insert(order.index(Status.SKIPPED.value) + 1, "skipped (non-blocking)")
        return ", ".join(f"{tally[label]} {label}" for label in order if label in tally)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checklist": self.name,
            "title": self.title,
            "status": self.status.value,
            "duration_ms": round(self.duration_s * 1000),
            "counts": self.counts(),
            "items": [i.as_dict() for i in self.items],
        }
