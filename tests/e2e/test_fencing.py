"""Fencing: a run whose lock was broken while it waited changes nothing more, and says who broke it.

Real processes: deploy A runs as a subprocess and blocks (in a step, or inside
the ECS driver on a moto call held open), `opsctl lock release --force --yes`
breaks its lock, deploy B runs to completion, then A continues. A must exit 3
naming the breaker and must not touch the service; B succeeds.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.errors import ExitCode
from opsctl.locks.base import FencingToken, LockInfo, LockLost
from opsctl.platforms.base import RolloutOptions
from tests.e2e import harness
from tests.e2e.harness import Project, single_error_line, wait_for
from tests.support import moto_server as aws_support
from tests.support.fly_api import FakeFlyApi, fly_api_fixture, fly_env_fixture  # noqa: F401
from tests.support.moto_server import EcsService, MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service
project = harness.project

HOLD = "OPSCTL_TEST_HOLD"  # a path: the wait step of the runbook below waits until it exists
WAIT = f"import os, time\nflag = os.environ.get({HOLD!r})\nwhile flag and not os.path.exists(flag): time.sleep(0.05)"


def _runbook(path: Path, *, wait: bool) -> None:
    steps: list[dict[str, Any]] = [{"id": "plan", "title": "Plan", "uses": "platform.plan"}]
    if wait:
        argv = [sys.executable, "-c", WAIT]
        steps.append({"id": "wait", "title": "Wait for the flag", "uses": "command", "with": {"argv": argv}})
    steps.append({"id": "deploy", "title": "Roll out", "uses": "platform.deploy"})
    body = {"title": "Deploy", "change_type": "standard", "steps": steps}
    (path / "runbooks").mkdir(exist_ok=True)
    (path / "runbooks" / "deploy.yaml").write_text(yaml.safe_dump(body, sort_keys=False))


def _as(project: Project, actor: str, **extra: str) -> Project:
    return dataclasses.replace(project, env={**project.env, "OPSCTL_ACTOR": actor, **extra})


def _events(project: Project) -> list[dict[str, Any]]:
    log = project.path / ".opsctl" / "audit.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _arns(project: Project) -> list[str]:
    return list(project.service.client().list_task_definitions()["taskDefinitionArns"])


def _run_of(events: list[dict[str, Any]], actor: str) -> str:
    return next(e["run"] for e in events if e.get("actor") == actor and e.get("step") == "run")


def test_a_run_whose_lock_was_broken_at_a_step_stops_before_its_deploy_naming_the_breaker(
    project: Project, tmp_path: Path
) -> None:
    _runbook(project.path, wait=True)
    flag = tmp_path / "go-on"
    a = _as(project, "alice@example.com", **{HOLD: str(flag)}).start("deploy", "staging", "--image", "hvb:1.8.0")
    try:
        wait_for(
            lambda: any(e.get("step") == "wait" and e.get("status") == "started" for e in _events(project)),
            timeout=60,
            what="deploy A waiting in its step",
        )
        before = _arns(project)
        broken = _as(project, "oncall@example.com").run("lock", "release", "staging", "--force", "--yes")
        assert broken.returncode == 0, broken.stderr
        assert broken.stdout.startswith("released staging's lock (was run r")
        b = _as(project, "bob@example.com").run("deploy", "staging", "--image", "hvb:1.9.0", "--timeout", "20s")
        assert b.returncode == 0, b.stdout + b.stderr
        assert project.image() == "hvb:1.9.0"
        after_b = (_arns(project), project.task_definition())
    finally:
        flag.touch()
    _, err = a.communicate(timeout=120)
    assert a.returncode == ExitCode.NEEDS_HUMAN, err
    events = _events(project)
    run_a = _run_of(events, "alice@example.com")
    breaker = next(e for e in events if e.get("step") == "lock.release")
    line = single_error_line(err)
    assert line.startswith(
        "error: lost the lock on staging before step deploy: it was broken or taken over; stopped before changing "
        f"anything else. Broken by oncall@example.com at {breaker['ts']} (`opsctl lock release`, run "
        f"{breaker['run']}). Nobody holds it now. The platform: it now runs {project.task_definition().split('/')[-1]}"
        " (hvb:1.9.0)"
    ), line
    assert line.endswith(f"Check `opsctl status staging`; to finish this run's change, `opsctl resume {run_a}`")
    # A changed nothing: no task definition registered, the service still on B's.
    assert (_arns(project), project.task_definition()) == after_b
    assert len(after_b[0]) == len(before) + 1  # only B's revision
    assert project.image() == "hvb:1.9.0"
    a_events = [e for e in events if e.get("run") == run_a]
    assert [e["status"] for e in a_events if e["step"] == "run"] == ["started", "needs_human"]
    assert not [e for e in a_events if e["step"] == "deploy"]
    assert a_events[-1]["resumable"] is True
    assert breaker["holder"]["run"] == run_a
    assert project.run("audit", "verify").returncode == 0


@dataclasses.dataclass
class HeldCall:
    """Once ``armed``, the next ListTaskDefinitions moto answers waits until ``release`` (``reached`` says it came)."""

    armed: threading.Event = dataclasses.field(default_factory=threading.Event)
    reached: threading.Event = dataclasses.field(default_factory=threading.Event)
    release: threading.Event = dataclasses.field(default_factory=threading.Event)


@pytest.fixture
def held_list_call(aws: MotoServer) -> Iterator[HeldCall]:
    """moto runs in this process: deploy A's driver, in a subprocess, waits on a real HTTP call
    inside its deploy step, after the step's own lock check."""
    from moto.ecs.models import EC2ContainerServiceBackend

    held = HeldCall()
    real = EC2ContainerServiceBackend.list_task_definitions

    def holding(self: Any, *args: Any, **kwargs: Any) -> Any:
        if held.armed.is_set() and not held.reached.is_set():
            held.reached.set()
            held.release.wait(60)
        return real(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EC2ContainerServiceBackend, "list_task_definitions", holding)
        try:
            yield held
        finally:
            held.release.set()


def test_a_driver_checks_the_lock_before_its_first_mutating_call(project: Project, held_list_call: HeldCall) -> None:
    _runbook(project.path, wait=False)
    before = _arns(project)
    held_list_call.armed.set()
    a = _as(project, "alice@example.com").start("deploy", "staging", "--image", "hvb:1.8.0", "--timeout", "30s")
    try:
        assert held_list_call.reached.wait(60), "deploy A never reached the ECS driver"
        broken = _as(project, "oncall@example.com").run("lock", "release", "staging", "--force", "--yes")
        assert broken.returncode == 0, broken.stderr
        b = _as(project, "bob@example.com").run("deploy", "staging", "--image", "hvb:1.9.0", "--timeout", "20s")
        assert b.returncode == 0, b.stdout + b.stderr
        after_b = (_arns(project), project.task_definition())
    finally:
        held_list_call.release.set()
    _, err = a.communicate(timeout=120)
    assert a.returncode == ExitCode.NEEDS_HUMAN, err
    line = single_error_line(err, "Broken by oncall@example.com at ", "(hvb:1.9.0)")
    assert line.startswith(
        "error: lost the lock on staging during step deploy: it was broken or taken over; stopped before changing "
        "anything else."
    ), line
    # A registered no revision and never touched the service: its fence stopped it before RegisterTaskDefinition.
    assert (_arns(project), project.task_definition()) == after_b
    assert len(after_b[0]) == len(before) + 1
    assert project.image() == "hvb:1.9.0"


def test_a_broken_run_that_nobody_replaced_can_be_resumed(project: Project, tmp_path: Path) -> None:
    _runbook(project.path, wait=True)
    flag = tmp_path / "go-on"
    a = _as(project, "alice@example.com", **{HOLD: str(flag)}).start("deploy", "staging", "--image", "hvb:1.8.0")
    try:
        wait_for(
            lambda: any(e.get("step") == "wait" and e.get("status") == "started" for e in _events(project)),
            timeout=60,
            what="deploy A waiting in its step",
        )
        broken = _as(project, "oncall@example.com").run("lock", "release", "staging", "--force", "--yes")
        assert broken.returncode == 0, broken.stderr
    finally:
        flag.touch()
    _, err = a.communicate(timeout=120)
    assert a.returncode == ExitCode.NEEDS_HUMAN, err
    assert project.image() == "hvb:1.7.0"
    run_a = re.findall(r"`opsctl resume (r[0-9a-f-]+)`", err)[-1]
    resumed = _as(project, "alice@example.com").run("resume", run_a)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert project.image() == "hvb:1.8.0"


# --- the drivers' fences, in-process against real local APIs ------------------------------------------------------


def _losing_after(calls: int) -> tuple[list[str], Any]:
    """A fence that lets ``calls`` mutating calls through, then reports the lock lost."""
    seen: list[str] = []
    token = FencingToken("t", 7)
    holder = LockInfo("staging", "r-bob", "bob@example.com", "deploy", "r-bob", "host-b", 42, "2026-11-27T10:00:00Z")

    def fence() -> None:
        seen.append("call")
        if len(seen) > calls:
            raise LockLost("staging", token, holder)

    return seen, fence


def test_the_ecs_driver_fences_each_mutating_call(ecs_service: EcsService) -> None:
    from opsctl.config import EcsPlatformConfig
    from opsctl.platforms.ecs import EcsPlatform

    platform = EcsPlatform.from_config(EcsPlatformConfig.model_validate(ecs_service.platform_config()))
    seen, fence = _losing_after(1)  # RegisterTaskDefinition goes through; UpdateService must not
    client = ecs_service.client()
    before = client.describe_services(cluster=ecs_service.cluster, services=[ecs_service.service])["services"][0]
    with pytest.raises(LockLost) as lost:
        platform.deploy("hvb:1.8.0", RolloutOptions(timeout=10, poll_interval=0.05, fence=fence))
    assert lost.value.holder is not None
    assert lost.value.holder.run == "r-bob"
    assert seen == ["call", "call"]
    after = client.describe_services(cluster=ecs_service.cluster, services=[ecs_service.service])["services"][0]
    assert after["taskDefinition"] == before["taskDefinition"]
    assert len(client.list_task_definitions()["taskDefinitionArns"]) == 2  # registered, never used
    platform.close()


def test_the_fly_driver_fences_each_machine_update(fly_api: FakeFlyApi, fly_env: None) -> None:
    from opsctl.platforms.fly import FlyPlatform

    platform = FlyPlatform.from_config(fly_api.platform_config(strategy="rolling"))
    seen, fence = _losing_after(1)  # m1 is updated; the fence stops the update of m2
    with pytest.raises(LockLost):
        platform.deploy("registry.fly.io/hvb:1.8.0", RolloutOptions(timeout=20, poll_interval=0.02, fence=fence))
    assert seen == ["call", "call"]
    assert len(fly_api.updates()) == 1
    assert fly_api.images() == {
        "m1": "registry.fly.io/hvb:1.8.0",
        "m2": "registry.fly.io/hvb:1.7.0",
        "m3": "registry.fly.io/hvb:1.7.0",
    }
    assert fly_api.leases() == {}  # leases given back on the way out
    platform.close()
