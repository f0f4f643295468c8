"""What a running action may ask about its surroundings: the item it runs for, and the time it has left."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class CurrentItem:
    """The checklist item an action runs for."""

    id: str
    title: str
    checklist: str
    skip_needs_waiver: bool = False  # a blocking item of a gate: a person's "skip" fails it


# Which item an action runs for (the `manual` action needs its id and title).
current_item: contextvars.ContextVar[CurrentItem | None] = contextvars.ContextVar("current_item", default=None)
# When the running action's time is up (time.monotonic()): actions that start processes or
# wait stop by then, since the executor can abandon a thread but not what the thread started.
action_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("action_deadline", default=None)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Actions (and checklist items) started inside the block end within ``seconds`` (or an enclosing limit).

    A runbook step that runs a checklist uses it: its step ``timeout`` bounds every item and retry.
    """
    at = time.monotonic() + seconds
    outer = action_deadline.get()
    token = action_deadline.set(at if outer is None else min(outer, at))
    try:
        yield
    finally:
        action_deadline.reset(token)


def time_left(default: float) -> float:
    """Seconds the running action may still use: ``default``, capped by its item's deadline."""
    deadline = action_deadline.get()
    return default if deadline is None else max(0.0, min(default, deadline - time.monotonic()))
