"""Wall-clock deadlines for network calls: one :class:`Deadline` per request, seen by its socket operations.

httpx timeouts bound each *operation* (one connect, one read), not a request:
a server that sends one byte per second, in its headers or its body, is never
timed out. :func:`opsctl.net.bounded.send` runs each request inside
:func:`deadline_scope`, and the network backend of :func:`opsctl.net.bounded.client`
gives every socket operation ``min(its own timeout, time left)`` (:func:`clamp`),
so connect + headers + body end by the deadline however slowly the bytes come.

The deadline travels in a context variable: httpx's sync client does all I/O
of a request (and of reading its streamed body) in the calling thread, and a
pooled connection reused by a later request sees that request's deadline.
No httpx here: this module is cheap to import.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# time.monotonic() by which the request running in this context must be done; None: no deadline.
_current: contextvars.ContextVar[float | None] = contextvars.ContextVar("opsctl_request_deadline", default=None)


@dataclass(frozen=True)
class Deadline:
    """A moment (``time.monotonic()``) by which a request must be done, and the limit it came from."""

    at: float
    seconds: float  # the limit as set, for messages ("within 10.0s")

    @classmethod
    def after(cls, seconds: float, *, within: float | None = None) -> Deadline:
        """``seconds`` from now, or the absolute ``within`` (an outer deadline) if that comes first."""
        now = time.monotonic()
        at = now + max(0.0, seconds)
        if within is not None and within < at:
            return cls(within, max(0.0, within - now))
        return cls(at, max(0.0, seconds))

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.at


@contextmanager
def deadline_scope(deadline: Deadline) -> Iterator[None]:
    """Socket operations inside the block (through :func:`opsctl.net.bounded.client`) end by ``deadline``."""
    outer = _current.get()
    token = _current.set(deadline.at if outer is None else min(outer, deadline.at))
    try:
        yield
    finally:
        _current.reset(token)


def clamp(timeout: float | None, error: Callable[[str], Exception]) -> float | None:
    """``timeout`` shortened to the time left in the current scope; raises ``error(...)`` when none is left."""
    at = _current.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the request's total time limit was reached")
    return left if timeout is None else min(timeout, left)
