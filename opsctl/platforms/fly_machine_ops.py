"""Changing one machine and following the change to a verdict.

``update`` sends a new config without ever re-sending it blindly; ``follow``
waits until the new instance is started and every check passes, and fails fast
when it crashes, stops, reports a critical check or the platform reverts it.
Outcomes other than success are raised as :class:`StepFailed`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from opsctl.errors import NeedsHuman
from opsctl.platforms.base import RolloutStatus
from opsctl.platforms.fly_diagnosis import diagnose_machine
from opsctl.platforms.fly_http import MAX_WAIT_SECONDS, FlyAmbiguous, FlyApiError, FlyClient
from opsctl.platforms.fly_machines import checks_verdict, crash_problem, image_of, runs_image
from opsctl.values.durations import format_duration

# How many times an update is sent when each attempt ends ambiguously and a read
# shows it was not applied.
UPDATE_ATTEMPTS = 3
# Never longer between two looks at a machine while it changes: a failure is noticed within seconds.
MAX_POLL_SECONDS = 5.0


class StepFailed(Exception):
    """A machine did not reach a healthy state on the image we asked for.

    ``diagnosis``: why, as :func:`opsctl.platforms.fly_diagnosis.diagnose_machine` found it (events, checks).
    """

    def __init__(self, status: RolloutStatus, message: str, diagnosis: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.diagnosis = diagnosis


class Cancelled(Exception):
    """The rollout's cancel event was set."""


class MachineOps:
    """Update and follow single machines of one app, holding their lease nonces."""

    def __init__(
        self,
        client: FlyClient,
        nonce: Callable[[str], str],
        *,
        interval: float,
        cancel: threading.Event,
        emit: Callable[[str], None],
        tick: Callable[[], None] = lambda: None,
        max_wait: int = MAX_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        fence: Callable[[], None] = lambda: None,
        stall_timeout: float | None = None,
    ) -> None:
        self._client = client
        self._nonce = nonce
        self._fence = fence  # raises when the run lost its lock: called before every machine update
        self._interval = min(max(interval, 0.01), MAX_POLL_SECONDS)  # steady, never above the bound
        self._stall_timeout = stall_timeout  # an updated machine not started by then fails as stalled
        self._cancel = cancel
        self._emit = emit
        self._tick = tick
        self._max_wait = max(1, max_wait)
        self._clock = clock

    def update(self, machine_id: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """Send ``config``; after an ambiguous error read the machine before any resend."""
        image = str(config.get("image"))
        for attempt in range(1, UPDATE_ATTEMPTS + 1):
            self._fence()
            try:
                return self._client.update_machine(machine_id, config, self._nonce(machine_id))
            except FlyAmbiguous as exc:
                self._emit(f"{machine_id}: update answer lost ({exc}); reading the machine before deciding")
                current = self._read_after_ambiguity(machine_id, image)
                if runs_image(current, image):
                    self._emit(f"{machine_id}: the update was applied (instance {current.get('instance_id')})")
                    return current
                if attempt == UPDATE_ATTEMPTS:
                    raise StepFailed(
                        RolloutStatus.FAILED, f"machine {machine_id}: update to {image} failed: {exc}"
                    ) from None
            except FlyApiError as exc:
                raise StepFailed(
                    RolloutStatus.FAILED, f"machine {machine_id}: update to {image} refused: {exc}"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_after_ambiguity(self, machine_id: str, image: str) -> dict[str, Any]:
        try:
            return self._client.get_machine(machine_id)
        except FlyApiError as exc:
            raise NeedsHuman(
                f"cannot tell whether fly machine {machine_id} was updated to {image}: {exc}; "
                f"check it with `fly machine status {machine_id}`"
            ) from None

    def follow(
        self, machine_id: str, instance_id: str, image: str, deadline: float, *, cancellable: bool = True
    ) -> dict[str, Any]:
        """Wait for ``instance_id`` to be started on ``image`` with every check passing."""
        self._wait_started(machine_id, instance_id, image, deadline, cancellable)
        self._emit(f"{machine_id}: started on {image} (instance {instance_id})")
        while True:
            machine = self._client.get_machine(machine_id)
            self._judge(machine_id, machine, image, started=True)
            verdict, why = checks_verdict(machine)
            if verdict == "critical":
                self._fail(RolloutStatus.FAILED, f"machine {machine_id} on {image}: {why}", machine_id, machine, image)
            if verdict == "passing" and machine.get("state") == "started":
                self._emit(f"{machine_id}: healthy ({why})")
                return machine
            if self._clock() >= deadline:
                why = f"machine {machine_id} on {image}: {why} at the deadline"
                self._fail(RolloutStatus.TIMEOUT, why, machine_id, machine, image)
            self._pause(self._interval, cancellable)

    def _fail(
        self, status: RolloutStatus, message: str, machine_id: str, machine: Mapping[str, Any] | None, image: str
    ) -> NoReturn:
        """Raise StepFailed with the machine's diagnosis (``machine`` None: read it now, if it answers)."""
        if machine is None:
            try:
                machine = self._client.get_machine(machine_id)
            except FlyApiError:
                machine = None
        verdict = "stalled" if " stalled" in message else status.value
        diagnosis = diagnose_machine(
            machine, machine_id=machine_id, app=self._client.app, image=image, verdict=verdict, reason=message
        )
        raise StepFailed(status, message, diagnosis)

    def _wait_started(self, machine_id: str, instance_id: str, image: str, deadline: float, cancellable: bool) -> None:
        stall_at = self._clock() + self._stall_timeout if self._stall_timeout is not None else None
        while True:
            self._step(cancellable)
            remaining = deadline - self._clock()
            if remaining <= 0:
                why = f"machine {machine_id} did not start on {image} before the deadline"
                self._fail(RolloutStatus.TIMEOUT, why, machine_id, None, image)
            if stall_at is not None and self._clock() >= stall_at:
                stalled = format_duration(self._stall_timeout or 0)
                why = f"machine {machine_id} stalled: not started on {image} within {stalled}"
                self._fail(RolloutStatus.FAILED, why, machine_id, None, image)
            # Short server-side waits, one poll interval long, so that a machine that went down is
            # noticed (and leases renewed) within a poll instead of after a minute.
            chunk = max(1, min(self._max_wait, math.ceil(self._interval), int(remaining) or 1))
            try:
                if self._client.wait_state(machine_id, instance_id, "started", chunk):
                    return
            except FlyApiError as exc:
                self._emit(f"{machine_id}: wait failed ({exc}); reading the machine")
                self._pause(self._interval, cancellable)
            self._judge(machine_id, self._client.get_machine(machine_id), image, started=False)

    def _judge(self, machine_id: str, machine: Mapping[str, Any], image: str, *, started: bool) -> None:
        if not runs_image(machine, image):
            raise StepFailed(
                RolloutStatus.REVERTED,
                f"fly put machine {machine_id} back on {image_of(machine)} after the update to {image}",
            )
        problem = crash_problem(machine, started=started)
        if problem:
            self._fail(RolloutStatus.FAILED, f"machine {machine_id} on {image}: {problem}", machine_id, machine, image)

    def _step(self, cancellable: bool) -> None:
        if cancellable and self._cancel.is_set():
            raise Cancelled
        self._tick()

    def _pause(self, delay: float, cancellable: bool) -> None:
        if cancellable:
            if self._cancel.wait(delay):
                raise Cancelled
        else:
            # Restores ignore cancel: stopping halfway would leave mixed versions.
            time.sleep(delay)
        self._tick()
