"""Migrations on Fly against the fake Machines API on 127.0.0.1: a one-off machine, followed until it exits."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from opsctl.platforms.base import RolloutOptions
from opsctl.platforms.fly import FlyPlatform
from opsctl.platforms.fly_migrate import one_off_config
from opsctl.platforms.migration import MigrationRequest, MigrationStatus
from tests.support.fly_api import DEFAULT_IMAGE, FakeFlyApi, fly_api_fixture, fly_env_fixture

fly_api = fly_api_fixture
fly_env = fly_env_fixture

NEW = "registry.fly.io/hvb:1.8.0"
COMMAND = ("alembic", "upgrade", "head")
KEY = "r20261130-100000-abc123"
LOGS_NOTE = "the Fly Machines API offers no logs: run `fly logs --app hvb --machine o1 --no-tail`"


def make_platform(api: FakeFlyApi) -> FlyPlatform:
    return FlyPlatform.from_config(api.platform_config())


def request(image: str = NEW, **overrides: Any) -> MigrationRequest:
    return MigrationRequest(**({"image": image, "command": COMMAND, "timeout": 10.0, "key": KEY} | overrides))


def fast(**kwargs: Any) -> RolloutOptions:
    kwargs.setdefault("poll_interval", 0.01)
    return RolloutOptions(**kwargs)


def test_a_one_off_machine_runs_the_command_with_the_new_image_and_is_destroyed(
    fly_api: FakeFlyApi, fly_env: None
) -> None:
    events: list[str] = []

    result = make_platform(fly_api).run_migration(request(), fast(on_event=events.append))

    assert result.status is MigrationStatus.SUCCEEDED
    assert result.message == "the migration `alembic upgrade head` exited 0 (machine o1)"
    assert (result.exit_code, result.unit, result.image) == (0, "o1", NEW)
    assert result.digest == fly_api.one_offs()[0]["image_ref"]["digest"]
    assert result.logs == ()
    assert result.logs_note == LOGS_NOTE
    assert result.detail == {}  # destroyed: nothing left behind
    (created,) = fly_api.calls("POST", "/machines")
    config = created.body["config"]
    assert config["image"] == NEW
    assert config["init"] == {"cmd": list(COMMAND)}
    assert (config["auto_destroy"], config["restart"]) == (True, {"policy": "no"})
    assert config["env"] == {"PORT": "8080"}
    assert "services" not in config  # it must never receive traffic
    assert "checks" not in config
    assert config["metadata"] == {"opsctl_migration": KEY, "fly_process_group": "opsctl_migrate"}
    assert created.body["region"] == "ams"
    assert fly_api.one_offs()[0]["state"] == "destroyed"
    # The app's machines did not change, and the destroyed one-off is no longer listed.
    assert fly_api.images() == {"m1": DEFAULT_IMAGE, "m2": DEFAULT_IMAGE, "m3": DEFAULT_IMAGE}
    assert [m["id"] for m in make_platform(fly_api).api.list_machines()] == ["m1", "m2", "m3"]
    assert events == [f"migration machine o1 runs `alembic upgrade head` on {NEW}"]


def test_a_migration_that_exits_1_fails(fly_api: FakeFlyApi, fly_env: None) -> None:
    fly_api.one_off_exit(1, image="1.8.0")

    result = make_platform(fly_api).run_migration(request(), fast())

    assert result.status is MigrationStatus.FAILED
    assert result.message == "the migration `alembic upgrade head` failed (machine o1): exited with code 1"
    assert result.exit_code == 1
    assert result.logs_note == LOGS_NOTE
    assert fly_api.images() == {"m1": DEFAULT_IMAGE, "m2": DEFAULT_IMAGE, "m3": DEFAULT_IMAGE}


def test_a_migration_still_running_at_the_deadline_is_left_running(fly_api: FakeFlyApi, fly_env: None) -> None:
    fly_api.crash_delay = 30.0  # the command runs for 30 s

    result = make_platform(fly_api).run_migration(request(timeout=1.0), fast())

    assert result.status is MigrationStatus.TIMEOUT
    assert result.message == (
        "the migration `alembic upgrade head` (machine o1) still runs after 1s; opsctl left it running "
        "(stopping a migration halfway can leave the schema half-changed)"
    )
    assert fly_api.one_offs()[0]["state"] == "started"


def test_cancel_leaves_the_machine_running(fly_api: FakeFlyApi, fly_env: None) -> None:
    fly_api.crash_delay = 30.0
    cancel = threading.Event()

    def cancel_once_started(message: str) -> None:
        if message.startswith("migration machine"):
            cancel.set()

    result = make_platform(fly_api).run_migration(request(), fast(cancel=cancel, on_event=cancel_once_started))

    assert result.status is MigrationStatus.INTERRUPTED
    assert (
        result.message
        == "interrupted while the migration `alembic upgrade head` (machine o1) runs; it was left running"
    )


def test_a_resumed_run_follows_its_machine_instead_of_creating_another(fly_api: FakeFlyApi, fly_env: None) -> None:
    fly_api.crash_delay = 2.0
    platform = make_platform(fly_api)
    first = platform.run_migration(request(timeout=0.1), fast())
    assert first.status is MigrationStatus.TIMEOUT
    events: list[str] = []

    again = platform.run_migration(request(), fast(on_event=events.append))

    assert again.ok
    assert len(fly_api.calls("POST", "/machines")) == 1
    assert events[0] == "following migration machine o1 started by an earlier attempt"


def test_the_fence_is_asked_before_the_machine_is_created(fly_api: FakeFlyApi, fly_env: None) -> None:
    class Fenced(Exception):
        pass

    def lost() -> None:
        raise Fenced

    with pytest.raises(Fenced):
        make_platform(fly_api).run_migration(request(), fast(fence=lost))

    assert fly_api.calls("POST", "/machines") == []


def test_a_refused_create_fails_with_the_apis_reason(fly_api: FakeFlyApi, fly_env: None) -> None:
    fly_api.fail_next(1, status=422, method="POST", path="/apps/hvb/machines")

    result = make_platform(fly_api).run_migration(request(), fast())

    assert result.status is MigrationStatus.FAILED
    assert result.message == (
        "Fly did not start the migration `alembic upgrade head`: Fly API POST machines: HTTP 422: injected HTTP 422"
    )
    assert result.logs_note is None


def test_one_off_config_drops_what_would_serve_traffic_and_an_exec_that_would_replace_the_command() -> None:
    template = {
        "image": "old",
        "env": {"A": "1"},
        "guest": {"cpus": 1},
        "init": {"exec": ["/bin/sh"], "entrypoint": ["/app/entry"]},
        "services": [{"internal_port": 8080}],
        "checks": {"health": {}},
        "mounts": [{"volume": "vol_1"}],
        "metadata": {"fly_process_group": "app"},
    }

    assert one_off_config(template, NEW, COMMAND, "r1") == {
        "env": {"A": "1"},
        "guest": {"cpus": 1},
        "image": NEW,
        "init": {"entrypoint": ["/app/entry"], "cmd": list(COMMAND)},
        "auto_destroy": True,
        "restart": {"policy": "no"},
        "metadata": {"opsctl_migration": "r1", "fly_process_group": "opsctl_migrate"},
    }
