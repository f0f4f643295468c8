"""SIGTERM handled like Ctrl-C, written once for the runs and the demo.

CI runners, ``timeout`` and container stops send SIGTERM, not SIGINT. Inside
:func:`sigterm_as_interrupt` it raises ``KeyboardInterrupt`` in the main
thread, so the same clean-up runs as for Ctrl-C: a run journals ``interrupted``
and releases its lock, the demo stops its sandbox.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


def _interrupt(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises ``KeyboardInterrupt``; the previous handler is restored on the way out.

    Only the main thread may set signal handlers: elsewhere (tests driving the
    core from a worker thread) this does nothing.
    """
    try:
        previous = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        # None: the old handler was not set from Python and cannot be put back; the default is closest.
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
