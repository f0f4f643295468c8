"""A held lock's heartbeat: a thread that keeps pushing the lock's expiry ahead and notices when it is lost."""

from __future__ import annotations

import threading
from collections.abc import Callable

from opsctl.errors import OpsctlError


class Heartbeat:
    """Every ``interval`` seconds, on its own thread, ``extend`` pushes the lock's expiry one ``ttl`` ahead.

    ``extend`` is the store's conditional write: True while the lock is this
    acquisition's. When it says False, ``on_lost`` is called and the beat ends;
    a transient error (an exception) is tried again at the next beat, since the
    lock holds until its expiry anyway.
    """

    def __init__(
        self,
        extend: Callable[[], bool],
        *,
        clock: Callable[[], float],
        ttl: float,
        interval: float,
        on_lost: Callable[[], None],
        name: str,
    ) -> None:
        self._write = extend
        self._clock = clock
        self._ttl = ttl
        self._on_lost = on_lost
        # Until when the store is known to hold our lock (its expires_at at our last confirmed write).
        self._confirmed_until = clock() + ttl
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(interval,), daemon=True, name=name)
        self._thread.start()

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                still_ours = self.extend()
            except Exception:  # noqa: S112 - a transient error: the lock holds until expires_at; try again
                continue
            if not still_ours:
                self._on_lost()
                return

    def extend(self) -> bool:
        """One beat now: the conditional write; False when the lock is no longer this acquisition's."""
        now = self._clock()
        ours = self._write()
        if ours:
            self._confirmed_until = now + self._ttl
        return ours

    def still_ours(self) -> bool:
        """The heartbeat's conditional write, now: it both checks the token and pushes expiry ahead."""
        try:
            return self.extend()
        except OpsctlError:
            # The store did not answer. Until our last confirmed expiry nobody can take the lock over;
            # after it, someone may have: stop rather than change things unfenced.
            return self._clock() < self._confirmed_until

    def stop(self) -> None:
        """End the beat (waiting for a write in flight, up to 30 seconds)."""
        self._stop.set()
        self._thread.join(timeout=30)
