"""Choosing events: by run, environment, time, step and status (what ``opsctl audit show`` lists)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opsctl.audit.line import parse_ts
from opsctl.audit.query.read import LogSource, field_mark, read_events
from opsctl.audit.query.remote import merged_events, run_id_floor

if TYPE_CHECKING:
    from opsctl.audit.mirror.remote import RemoteStore


@dataclass(frozen=True)
class EventFilter:
    """Which events to keep; a field left None keeps every value. ``since`` keeps events at or after it."""

    run: str | None = None
    env: str | None = None
    since: datetime | None = None
    step: str | None = None
    status: str | None = None

    @property
    def marks(self) -> tuple[bytes, ...]:
        """Bytes every matching line holds, as the log spells them: a cheap pre-filter (empty: none)."""
        for key in ("run", "env", "step", "status"):
            value = getattr(self, key)
            if value is not None:
                return (field_mark(key, value),)
        return ()

    def matches(self, event: dict[str, Any]) -> bool:
        fields = {"run": self.run, "env": self.env, "step": self.step, "status": self.status}
        if any(wanted is not None and event.get(key) != wanted for key, wanted in fields.items()):
            return False
        return self.since is None or _at_or_after(event.get("ts"), self.since)


def find_events(
    log: LogSource, wanted: EventFilter | None = None, *, limit: int | None = None, remote: RemoteStore | None = None
) -> list[dict[str, Any]]:
    """The events ``wanted`` keeps, oldest first; with ``limit``, only the newest that many.

    ``remote``: everyone's events, from the S3 mirror's store, merged with ``log``'s not mirrored yet.
    """
    chosen = wanted or EventFilter()
    if remote is not None:
        floor = run_id_floor(chosen.since) if chosen.since is not None else None
        source: Any = merged_events(remote, log, marks=chosen.marks, since_run=floor)
    else:
        source = read_events(log, chosen.marks)
    found = [event for event in source if chosen.matches(event)]
    return found if limit is None else found[max(0, len(found) - limit) :]


def _at_or_after(ts: Any, since: datetime) -> bool:
    try:
        return parse_ts(str(ts)) >= since
    except (ValueError, TypeError):  # no time, or one opsctl did not write: it cannot be placed in the window
        return False
