"""Fly failure diagnosis against the fake Machines API on 127.0.0.1: exits, OOM kills, failing checks, stalls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from opsctl.platforms.base import RolloutOptions, RolloutStatus
from opsctl.platforms.fly import FlyPlatform
from opsctl.platforms.fly_diagnosis import diagnose_machine
from tests.support.fly_api import DEFAULT_IMAGE as OLD
from tests.support.fly_api import FakeFlyApi

BAD = "registry.fly.io/hvb:1.9.0-bad"


class OomFlyApi(FakeFlyApi):
    """Machines on a ``-bad`` image are OOM-killed (exit 137); on a ``-hang`` image they never start."""

    def _event(self, m: Any, kind: str, status: str, exit_code: int | None = None) -> None:
        super()._event(m, kind, status, exit_code)
        if kind == "exit" and exit_code == 1 and "-bad" in m.image:
            m.events[-1]["request"]["exit_event"].update(exit_code=137, oom_killed=True)

    def _schedule(self, m: Any, delay: float, action: str) -> None:
        if action == "started" and "-hang" in m.image:
            return  # stays "starting": the image never comes up
        super()._schedule(m, delay, action)


@pytest.fixture
def api() -> Iterator[OomFlyApi]:
    server = OomFlyApi().start()
    try:
        yield server
    finally:
        server.stop()


def platform(api: FakeFlyApi, **overrides: Any) -> FlyPlatform:
    return FlyPlatform(api.platform_config(**overrides), environ={"FLY_API_TOKEN": api.token})


def options() -> RolloutOptions:
    return RolloutOptions(timeout=20.0, poll_interval=0.02)


def test_an_oom_killed_machine_names_exit_code_and_oom_and_is_restored(api: OomFlyApi) -> None:
    api.fail_image("-bad", mode="crashloop")
    driver = platform(api)
    try:
        result = driver.deploy(BAD, options())
    finally:
        driver.close()

    assert result.status is RolloutStatus.FAILED
    assert result.message.startswith(
        f"machine m1 on {BAD}: exited 1 time(s) since it started (exit code 137, out of memory)"
    )
    assert api.images() == {"m1": OLD, "m2": OLD, "m3": OLD}
    diagnosis = result.detail["diagnosis"]
    assert (diagnosis["platform"], diagnosis["verdict"], diagnosis["machine"]) == ("fly", "failed", "m1")
    exits = [e for e in diagnosis["events"] if e["type"] == "exit"]
    assert exits[-1]["exit_code"] == 137
    assert exits[-1]["oom_killed"] is True
    assert ", exit code 137, killed: out of memory (OOM)" in diagnosis["text"]
    assert diagnosis["notes"] == [
        "machine logs are not available through the Machines API: run `fly logs --app hvb --machine m1`"
    ]


def test_a_critical_check_shows_its_output(api: OomFlyApi) -> None:
    api.critical_checks(image="1.9.0", output="GET /health: 503 Service Unavailable\ndatabase: down")
    driver = platform(api)
    try:
        result = driver.deploy("registry.fly.io/hvb:1.9.0", options())
    finally:
        driver.close()

    assert result.status is RolloutStatus.FAILED
    diagnosis = result.detail["diagnosis"]
    assert diagnosis["checks"] == [
        {"name": "health", "status": "critical", "output": "GET /health: 503 Service Unavailable\ndatabase: down"}
    ]
    assert "check health critical: GET /health: 503 Service Unavailable" in diagnosis["text"]


def test_a_machine_that_never_starts_fails_as_stalled(api: OomFlyApi) -> None:
    driver = platform(api, stall_timeout="1s")
    hang = "registry.fly.io/hvb:1.9.0-hang"
    try:
        result = driver.deploy(hang, options())
    finally:
        driver.close()

    assert result.status is RolloutStatus.FAILED
    assert result.message.startswith(f"machine m1 stalled: not started on {hang} within 1.0s; restored m1 to {OLD}")
    assert result.detail["diagnosis"]["verdict"] == "stalled"
    assert result.detail["diagnosis"]["state"] == "starting"


def test_a_machine_that_cannot_be_read_still_gets_a_diagnosis() -> None:
    diagnosis = diagnose_machine(None, machine_id="m9", app="hvb", image="x:1", verdict="timeout", reason="r")

    assert diagnosis["text"] == (
        "why: r\n"
        "machine m9 (instance ?): None\n"
        "note: machine m9 could not be read\n"
        "note: machine logs are not available through the Machines API: run `fly logs --app hvb --machine m9`"
    )
