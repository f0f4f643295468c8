"""The held lock's heartbeat thread, with a fake store: beats, loss, transient errors, an unreachable store."""

from __future__ import annotations

import threading

from opsctl.errors import OpsctlError
from opsctl.locks.dynamo_heartbeat import Heartbeat


class Store:
    """Answers the heartbeat's conditional writes from a script: True/False, or an exception to raise."""

    def __init__(self, *answers: bool | Exception) -> None:
        self.answers = list(answers)
        self.writes = 0
        self.lost = threading.Event()

    def extend(self) -> bool:
        self.writes += 1
        answer = self.answers.pop(0) if self.answers else True
        if isinstance(answer, Exception):
            raise answer
        return answer


def _beat(store: Store, *, interval: float = 0.01, clock: list[float] | None = None) -> Heartbeat:
    now = clock if clock is not None else [1000.0]
    return Heartbeat(
        store.extend, clock=lambda: now[0], ttl=60.0, interval=interval, on_lost=store.lost.set, name="test-beat"
    )


def test_a_beat_that_finds_the_lock_gone_reports_it_and_stops() -> None:
    store = Store(True, RuntimeError("throttled"), False)
    heartbeat = _beat(store)
    assert store.lost.wait(5)
    heartbeat.stop()
    assert store.writes == 3  # the transient error was tried again at the next beat; no beat after the loss


def test_stop_ends_the_beat() -> None:
    store = Store()
    heartbeat = _beat(store, interval=3600.0)
    heartbeat.stop()
    assert (store.writes, store.lost.is_set()) == (0, False)


def test_an_unreachable_store_is_trusted_until_the_last_confirmed_expiry() -> None:
    now = [1000.0]
    store = Store(True, OpsctlError("DynamoDB unreachable"), OpsctlError("DynamoDB unreachable"))
    heartbeat = _beat(store, interval=3600.0, clock=now)
    try:
        assert heartbeat.still_ours() is True  # confirmed now: expiry pushed to 1060
        now[0] = 1059.0
        assert heartbeat.still_ours() is True  # no answer, but nobody can have taken it yet
        now[0] = 1061.0
        assert heartbeat.still_ours() is False  # no answer, and past expiry: someone may hold it
    finally:
        heartbeat.stop()


def test_a_lock_found_gone_is_not_ours() -> None:
    store = Store(False)
    heartbeat = _beat(store, interval=3600.0)
    try:
        assert heartbeat.still_ours() is False
    finally:
        heartbeat.stop()
