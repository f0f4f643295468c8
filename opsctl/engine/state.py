"""What a run has learned so far, carried from step to step: :class:`RunState`.

Every step's journal event carries a snapshot (``state``) that ``opsctl
resume`` reads back, and the run's result reports ``previous`` and
``release`` as ``release_before`` / ``release_after``. The snapshot is the
same JSON object earlier versions wrote: the same keys, in the order they
were first set, and nothing for a value not set yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypedDict

# A platform release as JSON (``Release.as_dict()``): id, image, tag, created_at.
ReleaseRecord = dict[str, Any]


class PlanRecord(TypedDict):
    """What ``platform.plan`` found the change would do."""

    summary: str
    diff: list[str]
    changes: list[str]  # commits between the running image and the new one


class BaselineRecord(TypedDict, total=False):
    """The error rate and latency ``metrics.baseline`` measured before the change."""

    error_rate: float | None
    error_source: str
    taken_at: str
    p50_ms: float
    p95_ms: float


class PinnedRecord(TypedDict):
    """What ``platform.verify`` resolved, once: the deploy sends ``image`` (``name:tag@digest``) for ``tag_ref``."""

    tag_ref: str  # the reference as asked for (--image)
    digest: str
    image: str  # tag_ref pinned to digest


@dataclass
class RunState:
    """Values the steps of one run hand to each other.

    ``previous`` is what ran before the change, ``attempted`` what the deploy
    step tried to roll out, ``release`` what runs now and passed its step,
    ``rollback_plan`` / ``rollback_target`` the release a rollback would / did
    put back. ``other`` keeps keys this version does not know (a journal
    written by another version) so that resuming does not drop them.
    """

    previous: ReleaseRecord | None = None
    plan: PlanRecord | None = None
    rollback_plan: ReleaseRecord | None = None
    baseline: BaselineRecord | None = None
    attempted: ReleaseRecord | None = None
    rollback_target: ReleaseRecord | None = None
    release: ReleaseRecord | None = None
    pinned: PinnedRecord | None = None  # the digest the verify step resolved; deploys send it
    other: dict[str, Any] = field(default_factory=dict)
    # Names in the order they were first set: the journal's snapshot keeps that order.
    _order: list[str] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._order.extend(name for name in _KEYS if getattr(self, name) is not None)

    def __setattr__(self, name: str, value: Any) -> None:
        order: list[str] | None = self.__dict__.get("_order")  # None while __init__ runs
        if order is not None and name in _KEYS and value is not None and name not in order:
            order.append(name)
        super().__setattr__(name, value)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunState:
        """Read a journaled snapshot back (``resume``)."""
        state = cls()
        for key, value in data.items():
            if key in _KEYS:
                setattr(state, key, value)
            else:
                state.other[key] = value
        return state

    def as_dict(self) -> dict[str, Any]:
        """The snapshot journaled with every step (and shown to templates as ``run.state``)."""
        data: dict[str, Any] = {name: getattr(self, name) for name in self._order if getattr(self, name) is not None}
        data.update(self.other)
        return data

    def copy(self) -> RunState:
        """An independent snapshot (a run's result keeps one)."""
        return RunState.from_dict(self.as_dict())


_KEYS = frozenset(f.name for f in fields(RunState) if f.name not in ("other", "_order"))
