"""Migrations on ECS against a moto server on 127.0.0.1: RunTask of the deploy's revision, followed to STOPPED.

What the task does (its exit code, its log lines) is scripted in moto's backend
(:mod:`tests.support.migrations`); stop reasons moto cannot produce are injected
into DescribeTasks answers with botocore event handlers on the driver's client.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from opsctl.config import EcsPlatformConfig
from opsctl.platforms.base import RolloutOptions
from opsctl.platforms.ecs import EcsPlatform
from opsctl.platforms.ecs_migrate import run_task_args
from opsctl.platforms.migration import MigrationRequest, MigrationStatus
from opsctl.values.redact import Redactor
from tests.support import moto_server as aws_support
from tests.support.migrations import LOG_GROUP, TaskScript, create_fargate_service, scripted_tasks
from tests.support.moto_server import EcsService, MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws

COMMAND = ("alembic", "upgrade", "head")
SECRET = "postgres://hvb:s3cr3t-pw@db/hvb"


class Fenced(Exception):
    """What a fence raises in these tests (the run's own raises LockLost)."""


@pytest.fixture
def fargate(aws: MotoServer) -> tuple[EcsService, dict[str, Any]]:
    return create_fargate_service(aws)


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch, aws: MotoServer) -> Iterator[TaskScript]:
    with scripted_tasks(monkeypatch, aws.region) as made:
        yield made


def make_platform(svc: EcsService, redactor: Redactor | None = None) -> EcsPlatform:
    return EcsPlatform.from_config(EcsPlatformConfig.model_validate(svc.platform_config()), redactor=redactor)


def request(image: str = "hvb:1.8.0", **overrides: Any) -> MigrationRequest:
    values: dict[str, Any] = {"image": image, "command": COMMAND, "timeout": 10.0, "key": "r20261130-100000-abc123"}
    return MigrationRequest(**(values | overrides))


def fast(**kwargs: Any) -> RolloutOptions:
    kwargs.setdefault("poll_interval", 0.01)
    return RolloutOptions(**kwargs)


def revisions(svc: EcsService) -> list[str]:
    arns = svc.client().list_task_definitions(familyPrefix=svc.family)["taskDefinitionArns"]
    return sorted(arn.rsplit("/", 1)[-1] for arn in arns)


def service_td(svc: EcsService) -> str:
    described = svc.client().describe_services(cluster=svc.cluster, services=[svc.service])
    return str(described["services"][0]["taskDefinition"]).rsplit("/", 1)[-1]


def test_a_migration_runs_the_new_revision_with_the_services_network_and_exits_0(
    fargate: tuple[EcsService, dict[str, Any]], script: TaskScript
) -> None:
    svc, network = fargate
    script.exit("hvb:1.8.0", 0, ["INFO  [alembic] Running upgrade 41 -> 42, add guests.locale"])
    platform = make_platform(svc)
    events: list[str] = []

    result = platform.run_migration(request(), fast(on_event=events.append))

    assert result.status is MigrationStatus.SUCCEEDED
    (task,) = script.started
    assert result.message == f"the migration `alembic upgrade head` exited 0 (task {task.id}, hvb:2)"
    assert (result.exit_code, result.unit, result.image) == (0, task.id, "hvb:1.8.0")
    assert result.logs == ("INFO  [alembic] Running upgrade 41 -> 42, add guests.locale",)
    assert result.logs_note is None
    # The revision the deploy will use, with the command override, placed like the service's tasks.
    assert (task.image, task.task_definition, task.launch_type) == ("hvb:1.8.0", "hvb:2", "FARGATE")
    assert task.overrides == {"containerOverrides": [{"name": "bot", "command": list(COMMAND)}]}
    assert task.network == network
    assert task.started_by.startswith("opsctl-migrate-")
    assert revisions(svc) == ["hvb:1", "hvb:2"]
    assert service_td(svc) == "hvb:1"  # no traffic moved
    assert events[0] == "registered hvb:2 with hvb:1.8.0 for the migration"
    assert events[-1] == f"migration task {task.id}: stopped"


def test_the_deploy_after_the_migration_reuses_its_revision(
    fargate: tuple[EcsService, dict[str, Any]], script: TaskScript
) -> None:
    svc, _ = fargate
    platform = make_platform(svc)
    assert platform.run_migration(request(), fast()).ok

    result = platform.deploy("hvb:1.8.0", fast(timeout=10.0))

    assert result.ok, result.message
    assert revisions(svc) == ["hvb:1", "hvb:2"]  # registered once, by the migration
    assert service_td(svc) == "hvb:2"


def test_a_migration_that_exits_1_fails_with_its_last_log_lines_redacted(
    fargate: tuple[EcsService, dict[str, Any]], script: TaskScript
) -> None:
    svc, _ = fargate
    lines = [f"line {n}" for n in range(1, 8)] + [f"sqlalchemy.exc.OperationalError: cannot reach {SECRET}"]
    script.exit("hvb:1.8.0", 1, lines)
    redactor = Redactor()
    redactor.add(SECRET)
    platform = make_platform(svc, redactor)

    result = platform.run_migration(request(log_lines=3), fast())

    (task,) = script.started
    assert result.status is MigrationStatus.FAILED
    assert result.message == (
        f"the migration `alembic upgrade head` failed (task {task.id}): "
        "container bot exited with code 1; Essential container in task exited"
    )
    assert result.exit_code == 1
    assert result.logs == ("line 6", "line 7", "sqlalchemy.exc.OperationalError: cannot reach ***")
    assert service_td(svc) == "hvb:1"


def test_an_image_the_service_runs_already_needs_no_new_revision(
    fargate: tuple[EcsService, dict[str, Any]], script: TaskScript
) -> None:
    svc, _ = fargate

    result = make_platform(svc).run_migration(request("hvb:1.7.0"), fast())

    assert result.ok
    assert revisions(svc) == ["hvb:1"]
    assert script.started[0].task_definition == "hvb:1"


def test_a_task_that_never_started_fails_with_ecs_reason(
    fargate: tuple[EcsService, dict[str, Any]], script: TaskScript
) -> None:
    svc, _ = fargate
    platform = make_platform(svc)
    reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s): hvb:1.8.0 not found"

    def never_ran(parsed: dict[str, Any], **_: Any) -> None:
        for task in parsed.get("tasks", []):
            task["stoppedReason"] = "Task failed to start"
            task["stopCode"] = "TaskFailedToStart"
            for container in task["containers"]:
                container.pop("exitCode", None)
                container["reason"] = reason

    platform.client.meta.events.register("after-call.ecs.DescribeTasks", never_ran)

    result = platform.run_migration(request(), fast())

    (task,) = script.started
    assert result.status is MigrationStatus.FAILED
    assert result.message == (
        f"the migration `alembic upgrade head` failed (task {task.id}): container bot never ran; {reason}; "
        "Task failed to start"
    )
    assert result.exit_code is None
    assert result.logs == ()
    assert result.logs_note == f"no log stream {LOG_GROUP}/hvb/bot/{task.id}: the container wrote nothing"


def test_a_migration_still_running_at_the_deadline_is_left_running(
    fargate: tuple[EcsService, dict[str, Any]], script: TaskScript
) -> None:
    svc, _ = fargate
    platform = make_platform(svc)

    def still_running(parsed: dict[str, Any], **_: Any) -> None:
        for task in parsed.get("tasks", []):
            task["lastStatus"] = "RUNNING"

    platform.client.meta.events.register("after-call.ecs.DescribeTasks", still_running)

    result = platform.run_migration(request(timeout=0.3), fast(poll_interval=0.05))

    (task,) = script.started
    assert result.status is MigrationStatus.TIMEOUT
    assert result.message == (
        f"the migration `alembic upgrade head` (task {task.id}) still runs after 0.3s; opsctl left it running "
        "(stopping a migration halfway can leave the schema half-changed)"
    )


def test_cancel_while_waiting_leaves_the_task_running(
    fargate: tuple[EcsService, dict[str, Any]], script: TaskScript
) -> None:
    svc, _ = fargate
    platform = make_platform(svc)
    cancel = threading.Event()

    def running_then_cancel(parsed: dict[str, Any], **_: Any) -> None:
        for task in parsed.get("tasks", []):
            task["lastStatus"] = "RUNNING"
        cancel.set()

    platform.client.meta.events.register("after-call.ecs.DescribeTasks", running_then_cancel)

    result = platform.run_migration(request(), fast(cancel=cancel))

    (task,) = script.started
    assert result.status is MigrationStatus.INTERRUPTED
    assert result.message == (
        f"interrupted while the migration `alembic upgrade head` (task {task.id}) runs; it was left running"
    )


def test_a_resumed_run_follows_its_earlier_task_instead_of_starting_another(
    fargate: tuple[EcsService, dict[str, Any]], script: TaskScript
) -> None:
    svc, _ = fargate
    platform = make_platform(svc)
    assert platform.run_migration(request(), fast()).ok
    events: list[str] = []

    again = platform.run_migration(request(), fast(on_event=events.append))

    assert again.ok
    assert len(script.started) == 1
    assert f"following migration task {script.started[0].id} started by an earlier attempt" in events


def test_the_fence_is_asked_right_before_run_task(
    fargate: tuple[EcsService, dict[str, Any]], script: TaskScript
) -> None:
    svc, _ = fargate
    calls: list[str] = []

    def fence() -> None:
        calls.append("fence")
        if len(calls) > 1:  # registering the revision passes; the lock is gone by RunTask
            raise Fenced("the run lost its lock")

    with pytest.raises(Fenced):
        make_platform(svc).run_migration(request(), fast(fence=fence))

    assert calls == ["fence", "fence"]
    assert script.started == []
    assert revisions(svc) == ["hvb:1", "hvb:2"]


def test_without_awslogs_the_result_says_there_are_no_logs(aws: MotoServer, script: TaskScript) -> None:
    svc, _ = create_fargate_service(aws, awslogs=False)

    result = make_platform(svc).run_migration(request(), fast())

    assert result.ok
    assert result.logs_note == "container bot does not log to CloudWatch Logs (awslogs): no logs to show"


def test_run_task_args_take_the_services_capacity_provider_strategy_over_its_launch_type() -> None:
    service = {
        "launchType": "FARGATE",
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        "platformVersion": "1.4.0",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
    }

    args = run_task_args(service, "arn:td/hvb:2", cluster="c", container="bot", command=COMMAND, token="t0k")

    assert args == {
        "cluster": "c",
        "taskDefinition": "arn:td/hvb:2",
        "count": 1,
        "startedBy": "opsctl-migrate-t0k",
        "clientToken": "t0k",
        "overrides": {"containerOverrides": [{"name": "bot", "command": ["alembic", "upgrade", "head"]}]},
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        "platformVersion": "1.4.0",
    }
