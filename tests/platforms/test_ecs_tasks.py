"""Which stopped ECS tasks are failures, and the one line that says why (pure, no AWS)."""

from __future__ import annotations

from typing import Any

import pytest

from opsctl.platforms.ecs_tasks import TaskState, ours


def state(**fields: Any) -> TaskState:
    body = {"taskArn": "arn:aws:ecs:eu-west-1:1:task/c/abc", "lastStatus": "STOPPED", "desiredStatus": "STOPPED"}
    return TaskState.of({**body, **fields})


@pytest.mark.parametrize(
    ("fields", "failure"),
    [
        (
            {
                "stopCode": "EssentialContainerExited",
                "stoppedReason": "Essential container in task exited",
                "containers": [{"name": "bot", "exitCode": 1}],
            },
            "Essential container in task exited; container bot exited with code 1",
        ),
        (
            {
                "stopCode": "TaskFailedToStart",
                "stoppedReason": "ResourceInitializationError: unable to pull secrets or registry auth",
            },
            "ResourceInitializationError: unable to pull secrets or registry auth",
        ),
        (
            {
                "stopCode": "ServiceSchedulerInitiated",
                "stoppedReason": "Task failed container health checks",
                "containers": [{"name": "bot", "exitCode": 137}],
            },
            "Task failed container health checks",
        ),
        ({"stopCode": "UserInitiated", "stoppedReason": "stopped by alice"}, None),
        (
            {"stopCode": "ServiceSchedulerInitiated", "stoppedReason": "Scaling activity initiated by (deployment x)"},
            None,
        ),
        (
            {
                "stopCode": "ServiceSchedulerInitiated",
                "stoppedReason": "something else",
                "containers": [{"name": "bot", "exitCode": 143}],
            },
            None,
        ),
        ({"lastStatus": "RUNNING", "desiredStatus": "RUNNING"}, None),
    ],
    ids=["essential-exit", "init-error", "container-health", "user", "scaling", "scheduler-sigterm", "running"],
)
def test_failure_of_a_task(fields: dict[str, Any], failure: str | None) -> None:
    assert state(**fields).failure() == failure


def test_ours_is_by_deployment_id_else_by_task_definition() -> None:
    task = state(startedBy="ecs-svc/1", taskDefinitionArn="arn:aws:ecs:eu-west-1:1:task-definition/hvb:2")

    assert ours(task, "ecs-svc/1", "hvb:9")
    assert not ours(task, "ecs-svc/2", "hvb:2")
    assert ours(task, None, "arn:aws:ecs:eu-west-1:1:task-definition/hvb:2")
