"""A cancelled Fly rollout never leaves a machine half-updated, and the run can wait for it to stop.

The rule (opsctl/platforms/fly_rollout.py): each machine whose update was sent
is followed to a verdict, then every machine the rollout changed goes back, so
the app runs the image it ran before; the leases are given back last.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from opsctl.platforms.base import RolloutOptions, RolloutResult, RolloutStatus
from opsctl.platforms.fly import FlyPlatform
from tests.support.fly_api import DEFAULT_IMAGE as OLD
from tests.support.fly_api import FakeFlyApi

NEW = "registry.fly.io/hvb:1.8.0"
ALL_OLD = {"m1": OLD, "m2": OLD, "m3": OLD}


@pytest.fixture
def slow_api() -> Iterator[FakeFlyApi]:
    """Machines take a while to start, so a test can act while an update is in flight."""
    api = FakeFlyApi(start_delay=0.3, check_delay=0.1).start()
    try:
        yield api
    finally:
        api.stop()


def driver(api: FakeFlyApi) -> FlyPlatform:
    return FlyPlatform(api.platform_config(), environ={"FLY_API_TOKEN": api.token}, sleep=lambda _s: None)


class Run:
    """A deploy in a worker thread, as a run's step runs it; the test plays the main thread."""

    def __init__(self, api: FakeFlyApi, cancel_when: Callable[[str], bool], **options: Any) -> None:
        self.platform = driver(api)
        self.events: list[str] = []
        self.leases: list[tuple[str, str]] = []
        self.cancel = threading.Event()
        self.cancel_now = threading.Event()
        self._cancel_when = cancel_when
        self.options = RolloutOptions(
            timeout=20,
            poll_interval=0.02,
            on_event=self._event,
            on_lease=lambda status, machine, _nonce: self.leases.append((status, machine)),
            cancel=self.cancel,
            **options,
        )
        self.result: RolloutResult | None = None
        self.thread = threading.Thread(target=self._deploy, daemon=True)

    def _event(self, message: str) -> None:
        self.events.append(message)
        if self._cancel_when(message):
            self.cancel_now.set()

    def _deploy(self) -> None:
        self.result = self.platform.deploy(NEW, self.options)

    def start(self) -> Run:
        self.thread.start()
        assert self.cancel_now.wait(10), self.events
        return self

    def interrupt(self, timeout: float = 20) -> str | None:
        """What the run does on Ctrl-C: set cancel, then wait for the platform."""
        self.cancel.set()
        return self.platform.wind_down(timeout)

    def close(self) -> None:
        self.thread.join(10)
        self.platform.close()


def test_an_update_in_flight_reaches_its_verdict_then_every_changed_machine_goes_back(slow_api: FakeFlyApi) -> None:
    run = Run(slow_api, lambda m: m.startswith("m2: updating")).start()
    try:
        stopped = run.interrupt()
        leases_when_stopped = list(run.leases)
    finally:
        run.close()

    assert stopped == (
        f"fly app hvb ({slow_api.url}): cancelled; restored m1, m2 to {OLD}; m3 untouched; leases released"
    )
    assert run.result is not None
    assert run.result.status is RolloutStatus.INTERRUPTED
    assert slow_api.images() == ALL_OLD
    assert slow_api.leases() == {}
    assert slow_api.updates("m3") == []
    # m2's update was sent: it was followed to healthy before the old config went back.
    verdict = run.events.index(f"m2: stopping; letting its update to {NEW} reach a verdict first")
    assert run.events.index("m2: healthy (1 checks passing)", verdict) < run.events.index(f"m2: restoring {OLD}")
    assert run.events.index(f"m2: restoring {OLD}") < run.events.index(f"m1: restoring {OLD}")
    # Every lease was given back (and reported) before wind_down returned.
    assert leases_when_stopped[-3:] == [("released", "m1"), ("released", "m2"), ("released", "m3")]
    assert run.leases == leases_when_stopped


def test_an_update_in_flight_that_fails_is_restored_too(slow_api: FakeFlyApi) -> None:
    slow_api.fail_image("1.8.0", mode="crashloop", machine="m2")
    run = Run(slow_api, lambda m: m.startswith("m2: updating")).start()
    try:
        stopped = run.interrupt()
    finally:
        run.close()

    assert stopped == (
        f"fly app hvb ({slow_api.url}): cancelled; restored m1, m2 to {OLD}; m3 untouched; leases released"
    )
    assert slow_api.images() == ALL_OLD
    assert any(e.startswith(f"m2: machine m2 on {NEW}: exited") for e in run.events), run.events


def test_immediate_rollouts_wait_for_every_machine_in_flight(slow_api: FakeFlyApi) -> None:
    run = Run(slow_api, lambda m: m.startswith("m3: updating"), strategy="immediate").start()
    try:
        stopped = run.interrupt()
    finally:
        run.close()

    assert stopped == f"fly app hvb ({slow_api.url}): cancelled; restored m1, m2, m3 to {OLD}; leases released"
    assert slow_api.images() == ALL_OLD
    assert slow_api.leases() == {}


def test_wind_down_with_nothing_in_flight_says_nothing(slow_api: FakeFlyApi) -> None:
    platform = driver(slow_api)
    try:
        assert platform.wind_down(1.0) is None
    finally:
        platform.close()


def test_a_rollout_that_does_not_stop_in_time_is_abandoned_and_reports_no_more_leases(
    slow_api: FakeFlyApi,
) -> None:
    run = Run(slow_api, lambda m: m.startswith("m2: updating")).start()
    try:
        stopped = run.interrupt(timeout=0.05)
        reported = list(run.leases)
    finally:
        run.close()

    assert stopped == (
        f"fly app hvb ({slow_api.url}): the rollout did not stop within 50ms; its machine leases expire after "
        "1m00s, and the next run of this environment adopts them"
    )
    # The worker still finished its stop (and gave the leases back), but reported nothing more:
    # the run journals `interrupted` right after wind_down returns.
    assert slow_api.images() == ALL_OLD
    assert slow_api.leases() == {}
    assert run.leases == reported
    assert ("released", "m1") not in run.leases
