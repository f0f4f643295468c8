"""Steady polls, never above 5 s while a rollout runs (issue 19), and the config bound that says so."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from opsctl.config import EcsPlatformConfig, FlyPlatformConfig, load_config
from opsctl.errors import ConfigError
from opsctl.platforms.base import Release, RolloutOptions, RolloutStatus
from opsctl.platforms.ecs_follow import MAX_POLL_DELAY, Follower, Target
from opsctl.platforms.fly_machine_ops import MAX_POLL_SECONDS, MachineOps
from opsctl.values.redact import Redactor

OURS = "arn:aws:ecs:eu-west-1:1:task-definition/hvb:2"


class RecordingEvent(threading.Event):
    """A cancel event whose waits return at once and are recorded (the delays the follower asked for)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(float(timeout or 0))
        return False


def service(poll: int, stable_at: int) -> dict[str, Any]:
    state = "COMPLETED" if poll >= stable_at else "IN_PROGRESS"
    return {
        "taskDefinition": OURS,
        "deployments": [
            {"id": "ecs-svc/1", "status": "PRIMARY", "taskDefinition": OURS, "rolloutState": state, "runningCount": 1}
        ],
        "events": [],
    }


@pytest.mark.parametrize(("interval", "expected"), [(2.0, 2.0), (30.0, MAX_POLL_DELAY)])
def test_ecs_polls_are_steady_and_never_longer_than_5s(interval: float, expected: float) -> None:
    polls = iter(range(1, 100))
    cancel = RecordingEvent()
    follower = Follower(
        describe=lambda: service(next(polls), stable_at=12),
        release_for=lambda _arn: None,
        redactor=Redactor(),
        options=RolloutOptions(timeout=3600, poll_interval=interval, cancel=cancel),
    )
    release = Release(id="hvb:2", image="hvb:1.8.0", detail={"arn": OURS})

    result = follower.follow(Target(release, previous=None, deployment_id="ecs-svc/1"))

    assert result.status is RolloutStatus.STABLE
    assert cancel.waits == [expected] * 11  # no back-off: the 45th second is looked at like the 3rd


def test_fly_machine_polls_are_capped_at_5s() -> None:
    ops = MachineOps(
        client=None,  # type: ignore[arg-type] - only the interval is looked at
        nonce=lambda _m: "n",
        interval=30.0,
        cancel=threading.Event(),
        emit=lambda _m: None,
    )

    assert ops._interval == MAX_POLL_SECONDS == 5.0


@pytest.mark.parametrize("model", [EcsPlatformConfig, FlyPlatformConfig])
def test_a_poll_interval_above_5s_is_refused(model: type[Any]) -> None:
    base = {"kind": "ecs", "cluster": "c", "service": "s", "container": "bot"}
    if model is FlyPlatformConfig:
        base = {"kind": "fly", "app": "hvb"}
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**base, "poll_interval": "6s"})

    assert caught.value.errors()[0]["msg"] == "Value error, must be at most 5s"


def test_defaults_poll_every_2s_and_stall_after_3m() -> None:
    ecs = EcsPlatformConfig.model_validate({"kind": "ecs", "cluster": "c", "service": "s", "container": "bot"})
    fly = FlyPlatformConfig.model_validate({"kind": "fly", "app": "hvb"})

    assert (ecs.poll_interval, ecs.stall_timeout, ecs.log_lines) == (2.0, 180.0, 50)
    assert (fly.poll_interval, fly.stall_timeout) == (2.0, 180.0)


def test_the_config_file_error_names_the_line_and_the_bound(tmp_path: Path) -> None:
    (tmp_path / "opsctl.yaml").write_text(
        "service: hvb\n"
        "environments:\n"
        "  staging:\n"
        "    platform:\n"
        "      kind: fly\n"
        "      app: hvb\n"
        "      poll_interval: 30s\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "opsctl.yaml")

    assert caught.value.message == (
        f"{tmp_path / 'opsctl.yaml'}:7: environments -> staging -> platform -> poll_interval: must be at most 5s"
    )
