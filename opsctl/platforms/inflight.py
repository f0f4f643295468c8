"""The rollouts a driver runs in other threads, so that an interrupted run can wait for them to stop.

A run's steps run in worker threads; Ctrl-C arrives in the main thread. The run
sets the cancel event and calls :meth:`Platform.wind_down`, which waits here for
every rollout in flight to end (it finishes or undoes the unit it was changing
and gives its leases back) before the run journals ``interrupted``. A rollout
that does not end in time is abandoned: its lease reports are dropped from then
on, so that nothing reaches the journal after ``interrupted``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from opsctl.platforms.base import RolloutOptions


class _LeaseGate:
    """Forwards lease reports until closed; closing waits for a report being written to finish."""

    def __init__(self, forward: Callable[[str, str, str], None]) -> None:
        self._forward = forward
        self._lock = threading.Lock()
        self._open = True

    def __call__(self, status: str, unit: str, nonce: str) -> None:
        with self._lock:
            if self._open:
                self._forward(status, unit, nonce)

    def close(self) -> None:
        with self._lock:
            self._open = False


class InFlight:
    """Rollouts in flight, their lease gates, and what the last one stopped by cancel said."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._gates: list[_LeaseGate] = []
        self._stopped: str | None = None

    @contextmanager
    def track(self, options: RolloutOptions) -> Iterator[RolloutOptions | None]:
        """One rollout: yields ``options`` whose lease reports can be cut off by :meth:`wait`.

        Yields None when the run was cancelled before the rollout began: :meth:`wait`
        may already have returned, so the rollout must not start at all.
        """
        gate = _LeaseGate(options.on_lease)
        with self._cond:
            # Checked under the lock that wait() takes after the run set cancel: no rollout slips past it.
            cancelled = options.cancel.is_set()
            if not cancelled:
                self._gates.append(gate)
                self._stopped = None
        if cancelled:
            yield None
            return
        try:
            yield dataclasses.replace(options, on_lease=gate)
        finally:
            with self._cond:
                self._gates.remove(gate)
                self._cond.notify_all()

    def stopped(self, message: str) -> None:
        """Record how a cancelled rollout ended (what :meth:`wait` returns)."""
        with self._cond:
            self._stopped = message

    def wait(self, timeout: float, abandoned: str) -> str | None:
        """Wait up to ``timeout`` seconds for every rollout to end; what the last cancelled one said.

        Rollouts still running then are abandoned (their lease reports dropped)
        and ``abandoned`` is returned instead.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while self._gates:
                left = deadline - time.monotonic()
                if left <= 0:
                    for gate in self._gates:
                        gate.close()
                    return abandoned
                self._cond.wait(left)
            return self._stopped
