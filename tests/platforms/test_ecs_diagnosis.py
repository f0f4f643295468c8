"""ECS failure diagnosis against moto: stopped tasks of our deployment, events, the last log lines; stalls.

moto starts no tasks, so the rollout's tasks are injected into the driver's
own ListTasks / DescribeTasks answers (tests/support/ecs_tasks.py), the way
tests/platforms/test_ecs.py scripts DescribeServices. CloudWatch Logs is moto's
own: log groups, streams and events are real there.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from opsctl.platforms.base import RolloutStatus
from opsctl.platforms.ecs import EcsPlatform
from opsctl.values.redact import Redactor
from tests.platforms.test_ecs import NEW_DEPLOYMENT, deployment, event, fast, make_platform, real_ecs_view
from tests.support import moto_server as aws_support
from tests.support.ecs_tasks import PULL_ERROR, inject_tasks, iter_lines, pull_failure, task
from tests.support.moto_server import EcsService, MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service

SECRET = "sk-live-0123456789abcdef"
GROUP = "/ecs/hvb"
OOM = "OutOfMemoryError: Container killed due to memory usage"


def with_awslogs(svc: EcsService, aws: MotoServer) -> None:
    """Point the service at revision 2 of its family, whose bot container logs to GROUP (prefix hvb)."""
    client = svc.client()
    td = client.describe_task_definition(taskDefinition=svc.task_definition_arn)["taskDefinition"]
    container = dict(td["containerDefinitions"][0])
    container["logConfiguration"] = {
        "logDriver": "awslogs",
        "options": {"awslogs-group": GROUP, "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "hvb"},
    }
    # awslogs needs an execution role (pre-flight verification checks that it exists).
    trust = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'  # noqa: E501
    role = aws.client("iam").create_role(RoleName="hvb-execution", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    arn = client.register_task_definition(family=svc.family, containerDefinitions=[container], executionRoleArn=role)[
        "taskDefinition"
    ]["taskDefinitionArn"]
    client.update_service(cluster=svc.cluster, service=svc.service, taskDefinition=arn)
    aws.client("logs").create_log_group(logGroupName=GROUP)


def write_stream(aws: MotoServer, stream: str, lines: list[str]) -> None:
    logs = aws.client("logs")
    logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now - len(lines) + i, "message": line} for i, line in enumerate(lines)]
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events)


def rolling(stop_at: int, *, failed_tasks: bool = True) -> Any:
    """A rollout of ours IN_PROGRESS with nothing running; from poll ``stop_at`` ECS counts a failed task."""

    def script(service: dict[str, Any], poll: int) -> None:
        extra = {"failedTasks": 1} if failed_tasks and poll >= stop_at else {"failedTasks": 0}
        service["deployments"] = [
            deployment(NEW_DEPLOYMENT, service["taskDefinition"], "PRIMARY", "IN_PROGRESS", running=0, **extra)
        ]

    return script


def test_a_task_that_cannot_pull_its_image_fails_the_rollout_within_one_poll(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    state = real_ecs_view(platform, rolling(stop_at=3))
    polls_at_stop: list[int] = []

    def tasks() -> list[dict[str, Any]]:
        if state["polls"] < 3:
            return []
        polls_at_stop.append(state["polls"])
        return [pull_failure("0a1b2c3d", NEW_DEPLOYMENT, ecs_service.task_definition_arn.replace(":1", ":2"))]

    inject_tasks(platform.client, tasks)
    seen: list[str] = []

    result = platform.deploy("hvb:1.9.0", fast(timeout=60.0, on_event=seen.append))

    assert result.status is RolloutStatus.FAILED
    assert state["polls"] == 3  # the poll that showed the failed task gave the verdict
    assert result.message == f"ECS rollout of hvb:2 failed: task 0a1b2c3d stopped: container bot: {PULL_ERROR}"
    assert seen == [f"task 0a1b2c3d of hvb:2 stopped: container bot: {PULL_ERROR}"]
    diagnosis = result.detail["diagnosis"]
    assert diagnosis["verdict"] == "failed"
    assert diagnosis["reason"] == f"task 0a1b2c3d stopped: container bot: {PULL_ERROR}"
    assert diagnosis["tasks"] == [
        {
            "task": "0a1b2c3d",
            "task_definition": "hvb:2",
            "last_status": "STOPPED",
            "stop_code": "TaskFailedToStart",
            "stopped_reason": PULL_ERROR,
            "started_at": diagnosis["tasks"][0]["started_at"],
            "stopped_at": diagnosis["tasks"][0]["stopped_at"],
            "containers": [{"name": "bot", "exit_code": None, "reason": PULL_ERROR, "status": "STOPPED"}],
            "failure": f"container bot: {PULL_ERROR}",
        }
    ]
    assert diagnosis["logs"] is None  # the container logs nowhere CloudWatch knows
    assert diagnosis["notes"] == ["container bot does not log to CloudWatch Logs (log driver: None)"]
    assert diagnosis["text"].splitlines()[:3] == [
        f"why: task 0a1b2c3d stopped: container bot: {PULL_ERROR}",
        "rollout in_progress (ECS deployment ecs-svc/9999000011112222 in_progress.): 0/1 running, 1 pending, 1 failed",
        f"task 0a1b2c3d (hvb:2) STOPPED TaskFailedToStart: container bot: {PULL_ERROR}",
    ]


def test_an_oom_killed_task_shows_exit_code_events_and_the_last_50_log_lines(
    ecs_service: EcsService, aws: MotoServer
) -> None:
    with_awslogs(ecs_service, aws)
    platform = make_platform(ecs_service, redactor=Redactor([SECRET]))
    write_stream(aws, "hvb/bot/5e6f7a8b", list(iter_lines(80, secret=SECRET)))
    started = event("e1", "(service hotel-voice-bot) has started 1 tasks: (task 5e6f7a8b).")

    def script(service: dict[str, Any], poll: int) -> None:
        rolling(stop_at=2)(service, poll)
        service["events"] = [started]

    state = real_ecs_view(platform, script)
    oom = task(
        "5e6f7a8b",
        started_by=NEW_DEPLOYMENT,
        task_definition="arn:aws:ecs:eu-west-1:123456789012:task-definition/hvb:3",
        stop_code="EssentialContainerExited",
        stopped_reason="Essential container in task exited",
        containers=[{"name": "bot", "lastStatus": "STOPPED", "exitCode": 137, "reason": OOM}],
    )
    inject_tasks(platform.client, lambda: [oom] if state["polls"] >= 2 else [])

    result = platform.deploy("hvb:1.9.0", fast(timeout=60.0))

    assert result.status is RolloutStatus.FAILED
    reason = f"task 5e6f7a8b stopped: Essential container in task exited; container bot exited with code 137: {OOM}"
    assert result.message == f"ECS rollout of hvb:3 failed: {reason}"
    diagnosis = result.detail["diagnosis"]
    assert diagnosis["events"] == ["(service hotel-voice-bot) has started 1 tasks: (task 5e6f7a8b)."]
    logs = diagnosis["logs"]
    assert (logs["group"], logs["stream"], logs["task"]) == (GROUP, "hvb/bot/5e6f7a8b", "5e6f7a8b")
    assert logs["lines"] == [f"line {n}" for n in range(31, 80)] + ["line 80 token=***"]
    text = diagnosis["text"]
    assert "last 50 log lines of hvb/bot/5e6f7a8b (/ecs/hvb):\n  line 31\n" in text
    assert SECRET not in str(result.detail)


def test_elb_health_check_failures_are_named(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    state = real_ecs_view(platform, rolling(stop_at=1))
    reason = (
        "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/hvb/1)"
    )
    killed = task(
        "9c9c9c9c",
        started_by=NEW_DEPLOYMENT,
        task_definition="hvb:2",
        stop_code="ServiceSchedulerInitiated",
        stopped_reason=reason,
        containers=[{"name": "bot", "lastStatus": "STOPPED", "exitCode": 143}],
    )
    inject_tasks(platform.client, lambda: [killed] if state["polls"] >= 1 else [])

    result = platform.deploy("hvb:1.9.0", fast(timeout=60.0))

    assert result.status is RolloutStatus.FAILED
    assert result.message == f"ECS rollout of hvb:2 failed: task 9c9c9c9c stopped: {reason}"


@pytest.mark.parametrize(
    ("started_by", "stop_code", "reason"),
    [
        ("ecs-svc/old", "EssentialContainerExited", "Essential container in task exited"),  # the old deployment's
        (NEW_DEPLOYMENT, "UserInitiated", "Task stopped by user"),
        (NEW_DEPLOYMENT, "ServiceSchedulerInitiated", "Scaling activity initiated by (deployment ecs-svc/9999)"),
    ],
    ids=["old-deployment", "user", "scaling"],
)
def test_tasks_stopped_on_purpose_or_not_ours_do_not_fail_it(
    ecs_service: EcsService, started_by: str, stop_code: str, reason: str
) -> None:
    platform = make_platform(ecs_service)

    def script(service: dict[str, Any], poll: int) -> None:
        state = "COMPLETED" if poll >= 4 else "IN_PROGRESS"
        service["deployments"] = [
            deployment(NEW_DEPLOYMENT, service["taskDefinition"], "PRIMARY", state, running=int(poll >= 4))
        ]

    real_ecs_view(platform, script)
    stopped = task(
        "11112222",
        started_by=started_by,
        task_definition="hvb:2",
        stop_code=stop_code,
        stopped_reason=reason,
        containers=[{"name": "bot", "lastStatus": "STOPPED", "exitCode": 1}] if started_by != NEW_DEPLOYMENT else [],
    )
    inject_tasks(platform.client, lambda: [stopped])

    result = platform.deploy("hvb:1.8.0", fast(timeout=60.0))

    assert result.status is RolloutStatus.STABLE
    assert "diagnosis" not in result.detail


def test_tasks_are_read_only_when_the_deployment_changes(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)

    def script(service: dict[str, Any], poll: int) -> None:
        running, state = (1, "COMPLETED") if poll >= 8 else (0, "IN_PROGRESS")
        pending = 0 if poll >= 5 else 1  # counts move twice: at poll 5 and at poll 8
        service["deployments"] = [
            {
                **deployment(NEW_DEPLOYMENT, service["taskDefinition"], "PRIMARY", state, running=running),
                "pendingCount": pending,
            }
        ]

    state = real_ecs_view(platform, script)
    calls = inject_tasks(platform.client, list)

    result = platform.deploy("hvb:1.8.0", fast(timeout=60.0))

    assert result.status is RolloutStatus.STABLE
    assert state["polls"] == 8
    # The first poll, then the change at poll 5 (poll 8 is the stable verdict: no read needed).
    assert [c["operation"] for c in calls] == ["ListTasks", "ListTasks"]


def test_a_rollout_with_no_task_running_within_stall_timeout_fails_as_stalled(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service, stall_timeout="300ms")
    state = real_ecs_view(platform, rolling(stop_at=10**6, failed_tasks=False))
    pending = task(
        "77778888",
        started_by=NEW_DEPLOYMENT,
        task_definition="hvb:2",
        last_status="PROVISIONING",
        containers=[{"name": "bot", "lastStatus": "PENDING"}],
    )
    inject_tasks(platform.client, lambda: [pending])
    started = time.monotonic()

    result = platform.deploy("hvb:1.8.0", fast(timeout=60.0))

    assert time.monotonic() - started < 5
    assert state["polls"] >= 2
    assert result.status is RolloutStatus.FAILED
    assert result.message == (
        "hvb:2 stalled: no task reached RUNNING within 300ms (0/1 tasks running, 1 pending); "
        "ECS would keep trying until --timeout"
    )
    diagnosis = result.detail["diagnosis"]
    assert diagnosis["verdict"] == "stalled"
    assert [(t["task"], t["last_status"], t["failure"]) for t in diagnosis["tasks"]] == [
        ("77778888", "PROVISIONING", None)
    ]
    assert "task 77778888 (hvb:2) PROVISIONING" in diagnosis["text"]


def test_a_circuit_breaker_revert_carries_the_stopped_tasks(ecs_service: EcsService) -> None:
    platform = make_platform(ecs_service)
    old = ecs_service.task_definition_arn

    def script(service: dict[str, Any], poll: int) -> None:
        ours = service["taskDefinition"]
        service["taskDefinition"] = old
        service["deployments"] = [
            deployment("ecs-svc/rollback", old, "PRIMARY", "IN_PROGRESS"),
            deployment(NEW_DEPLOYMENT, ours, "ACTIVE", "FAILED", running=0, failedTasks=3),
        ]

    real_ecs_view(platform, script)
    inject_tasks(platform.client, lambda: [pull_failure("0a1b2c3d", NEW_DEPLOYMENT, "hvb:2")])

    result = platform.deploy("hvb:1.9.0", fast(timeout=60.0))

    assert result.status is RolloutStatus.REVERTED
    assert result.message == (
        "ECS rolled the service back to hvb:1 (deployment circuit breaker); hvb:2 did not become stable; "
        f"task 0a1b2c3d stopped: container bot: {PULL_ERROR}"
    )
    assert result.detail["diagnosis"]["verdict"] == "reverted"


def test_unreadable_logs_are_a_note_not_an_error(ecs_service: EcsService, aws: MotoServer) -> None:
    with_awslogs(ecs_service, aws)
    platform: EcsPlatform = make_platform(ecs_service)
    state = real_ecs_view(platform, rolling(stop_at=1))
    inject_tasks(platform.client, lambda: [pull_failure("0a1b2c3d", NEW_DEPLOYMENT, "hvb:3")] if state["polls"] else [])

    result = platform.deploy("hvb:1.9.0", fast(timeout=60.0))

    diagnosis = result.detail["diagnosis"]
    assert diagnosis["logs"] == {"group": GROUP, "stream": "hvb/bot/0a1b2c3d", "task": "0a1b2c3d", "lines": []}
    assert diagnosis["notes"] == ["no log stream hvb/bot/0a1b2c3d in /ecs/hvb (the container never started)"]
