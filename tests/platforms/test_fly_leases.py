"""Machine leases are reported with their nonces, and a later run adopts the ones a killed run left.

Against the fake Machines API on 127.0.0.1, which honours nonces as the real
API does: only the holder of a lease's nonce may update the machine, renew or
release the lease.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from opsctl.errors import ExitCode, Locked, NeedsHuman
from opsctl.platforms.base import RolloutOptions, RolloutStatus
from opsctl.platforms.fly import FlyPlatform
from opsctl.platforms.fly_http import FlyClient
from opsctl.platforms.fly_leases import LeaseSet
from tests.support.fly_api import DEFAULT_IMAGE as OLD
from tests.support.fly_api import OWNER, TOKEN, FakeFlyApi, fly_api_fixture  # noqa: F401 - registers fly_api

NEW = "registry.fly.io/hvb:1.8.0"
MACHINES = ("m1", "m2", "m3")


class LeaseLog:
    """Records ``on_lease`` reports, as the run's journal would."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, str, str]] = []

    def __call__(self, status: str, machine: str, nonce: str) -> None:
        self.reports.append((status, machine, nonce))

    def of(self, status: str) -> dict[str, str]:
        return {machine: nonce for s, machine, nonce in self.reports if s == status}


@pytest.fixture
def platform(fly_api: FakeFlyApi) -> Iterator[FlyPlatform]:
    driver = FlyPlatform(fly_api.platform_config(), environ={"FLY_API_TOKEN": fly_api.token}, sleep=lambda _s: None)
    try:
        yield driver
    finally:
        driver.close()


def opts(log: LeaseLog, events: list[str] | None = None, **kwargs: Any) -> RolloutOptions:
    on_event = events.append if events is not None else (lambda _m: None)
    return RolloutOptions(timeout=10, poll_interval=0.02, on_event=on_event, on_lease=log, **kwargs)


def killed_run_leases(api: FakeFlyApi) -> dict[str, str]:
    """Leases taken by a run that was then killed with -9: taken, never given back."""
    client = FlyClient(api.url, api.app, TOKEN)
    log = LeaseLog()
    try:
        LeaseSet(client, 60, on_lease=log).acquire_all(list(MACHINES))  # no `with`: nothing releases them
    finally:
        client.close()
    assert api.lease_nonces() == log.of("acquired")
    return log.of("acquired")


def until(api: FakeFlyApi, machine: str) -> str:
    return datetime.fromtimestamp(int(api.leases()[machine]["expires_at"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_every_lease_is_reported_with_the_nonce_the_updates_carried(fly_api: FakeFlyApi, platform: FlyPlatform) -> None:
    log = LeaseLog()
    result = platform.deploy(NEW, opts(log))

    assert result.ok
    acquired = log.of("acquired")
    assert list(acquired) == list(MACHINES)
    assert [(s, m) for s, m, _ in log.reports] == [
        *(("acquired", m) for m in MACHINES),
        *(("released", m) for m in MACHINES),
    ]
    assert log.of("released") == acquired
    sent = {r.path.rsplit("/", 1)[-1]: r.headers["fly-machine-lease-nonce"] for r in fly_api.updates()}
    assert sent == acquired
    assert TOKEN not in repr(log.reports)


def test_leases_a_killed_run_left_are_adopted_with_their_journaled_nonces(
    fly_api: FakeFlyApi, platform: FlyPlatform
) -> None:
    left = killed_run_leases(fly_api)
    log, events = LeaseLog(), []

    result = platform.deploy(NEW, opts(log, events, journaled_leases=left))

    assert result.ok, result.message
    assert fly_api.images() == dict.fromkeys(MACHINES, NEW)
    assert fly_api.leases() == {}
    assert log.of("adopted") == left
    assert log.of("released") == left
    assert "acquired" not in {s for s, _, _ in log.reports}
    assert "m2: adopted the lease a stopped run left; renewed for 60s" in events
    renewals = [r for r in fly_api.calls("POST", "/lease") if r.headers.get("fly-machine-lease-nonce")]
    assert {r.path.split("/")[-2]: r.headers["fly-machine-lease-nonce"] for r in renewals} == left


def test_without_the_journal_a_killed_runs_leases_lock_us_out(fly_api: FakeFlyApi, platform: FlyPlatform) -> None:
    killed_run_leases(fly_api)

    with pytest.raises(Locked) as caught:
        platform.deploy(NEW, opts(LeaseLog()))

    assert str(caught.value) == f"fly machine m1 of app hvb is leased by {OWNER} until {until(fly_api, 'm1')}"
    assert fly_api.updates() == []


def test_a_journaled_nonce_whose_lease_someone_else_took_is_locked_naming_them(
    fly_api: FakeFlyApi, platform: FlyPlatform
) -> None:
    left = killed_run_leases(fly_api)
    fly_api.expire_lease("m2")
    fly_api.hold_lease("m2", owner="alice@example.com")
    log = LeaseLog()

    with pytest.raises(Locked) as caught:
        platform.deploy(NEW, opts(log, journaled_leases=left))

    assert str(caught.value) == f"fly machine m2 of app hvb is leased by alice@example.com until {until(fly_api, 'm2')}"
    assert caught.value.exit_code is ExitCode.LOCKED
    assert log.reports == [
        ("adopted", "m1", left["m1"]),
        ("lost", "m2", left["m2"]),
        ("released", "m1", left["m1"]),
    ]
    assert fly_api.updates() == []
    assert set(fly_api.leases()) == {"m2", "m3"}  # alice's, and m3's that this run never reached


def test_an_expired_journaled_lease_is_taken_afresh(fly_api: FakeFlyApi, platform: FlyPlatform) -> None:
    left = killed_run_leases(fly_api)
    fly_api.expire_lease("m1")
    log = LeaseLog()

    result = platform.deploy(NEW, opts(log, journaled_leases=left))

    assert result.ok, result.message
    assert log.reports[:2] == [("expired", "m1", left["m1"]), ("acquired", "m1", log.of("acquired")["m1"])]
    assert log.of("acquired")["m1"] != left["m1"]
    assert log.of("adopted") == {"m2": left["m2"], "m3": left["m3"]}
    assert fly_api.leases() == {}


def test_a_lease_lost_during_the_rollout_stops_it_and_puts_machines_back(fly_api: FakeFlyApi) -> None:
    # A renewal that finds the lease taken (it had expired) is no longer a pre-change Locked:
    # the rollout stops, and what it changed goes back where the API still lets it.
    offset = [0.0]
    driver = FlyPlatform(
        fly_api.platform_config(),
        environ={"FLY_API_TOKEN": fly_api.token},
        sleep=lambda _s: None,
        clock=lambda: time.monotonic() + offset[0],
    )

    def on_event(message: str) -> None:
        if message.startswith("m2: started") and not offset[0]:
            fly_api.expire_lease("m1")
            fly_api.hold_lease("m1", owner="alice@example.com")
            offset[0] = 31.0  # past half the 60 s ttl: every lease is renewed at the next poll

    try:
        with pytest.raises(NeedsHuman) as caught:
            driver.deploy(NEW, RolloutOptions(timeout=100, poll_interval=0.02, on_event=on_event))
    finally:
        driver.close()

    assert str(caught.value) == (
        f"lost a lease: fly machine m1 of app hvb is leased by alice@example.com until {until(fly_api, 'm1')}; "
        f"restoring the previous image failed (m1: machine m1: update to {OLD} refused: "
        f"opsctl no longer holds the lease on machine m1); machines on mixed images: {OLD} (m2, m3), {NEW} (m1)"
    )
    assert fly_api.images()["m2"] == OLD, "the machine whose lease we still held went back"
    assert set(fly_api.leases()) == {"m1"}, "ours were given back; alice's stays"


def test_a_rollout_cancelled_before_it_began_touches_nothing(fly_api: FakeFlyApi, platform: FlyPlatform) -> None:
    log = LeaseLog()
    cancelled = opts(log)
    cancelled.cancel.set()

    result = platform.deploy(NEW, cancelled)

    assert result.status is RolloutStatus.INTERRUPTED
    assert result.message == "cancelled before the rollout began"
    assert fly_api.requests == []
    assert log.reports == []


def test_a_second_lease_lost_while_putting_machines_back_still_needs_a_human(fly_api: FakeFlyApi) -> None:
    # Locked means "changed nothing" to the run (it stays resumable): one raised while machines
    # are being put back must not escape as such.
    offset = [0.0]
    driver = FlyPlatform(
        fly_api.platform_config(),
        environ={"FLY_API_TOKEN": fly_api.token},
        sleep=lambda _s: None,
        clock=lambda: time.monotonic() + offset[0],
    )

    def on_event(message: str) -> None:
        if message.startswith("m2: started") and not offset[0]:
            for machine in ("m1", "m3"):
                fly_api.expire_lease(machine)
                fly_api.hold_lease(machine, owner="alice@example.com")
            offset[0] = 31.0

    try:
        with pytest.raises(NeedsHuman) as caught:
            driver.deploy(NEW, RolloutOptions(timeout=100, poll_interval=0.02, on_event=on_event))
    finally:
        driver.close()

    message = str(caught.value)
    assert message.startswith("lost a lease: fly machine m1 of app hvb is leased by alice@example.com"), message
    assert f"m2: fly machine m3 of app hvb is leased by alice@example.com until {until(fly_api, 'm3')}" in message
    assert caught.value.exit_code is ExitCode.NEEDS_HUMAN
