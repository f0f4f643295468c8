"""ECS services that can run one-off tasks on moto, and a script for what those tasks do.

moto starts tasks but runs no containers: a task walks RUNNING -> ... -> STOPPED
over successive DescribeTasks calls and its container reports exit code 0.
:class:`TaskScript` patches moto's in-process ECS backend (the moto server runs
in the test process) so that a task of a given image exits with a chosen code
and leaves chosen lines in its awslogs stream, the way a real migration would.
opsctl still reaches moto only over HTTP; nothing of opsctl is patched.

:func:`create_fargate_service` makes what RunTask needs on moto: a VPC with DNS
hostnames (moto names the task's network interface from it), a subnet and a
security group, an awsvpc FARGATE task definition whose container logs with
awslogs, its log group, and a FARGATE service with that network configuration.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.moto_server import EcsService, MotoServer

LOG_GROUP = "/ecs/hvb"
STREAM_PREFIX = "hvb"


def create_fargate_service(
    server: MotoServer,
    *,
    cluster: str = "hvb-staging",
    service: str = "hotel-voice-bot",
    family: str = "hvb",
    container: str = "bot",
    image: str = "hvb:1.7.0",
    awslogs: bool = True,
) -> tuple[EcsService, dict[str, Any]]:
    """A FARGATE service on ``server`` (one running task); returns it and its network configuration."""
    ec2, ecs, logs = server.client("ec2"), server.client("ecs"), server.client("logs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"{cluster}-sg", Description="hvb", VpcId=vpc)["GroupId"]
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}}
    definition: dict[str, Any] = {
        "name": container,
        "image": image,
        "memory": 512,
        "essential": True,
        "environment": [{"name": "LOG_LEVEL", "value": "info"}],
    }
    if awslogs:
        if LOG_GROUP not in [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]:
            logs.create_log_group(logGroupName=LOG_GROUP)
        definition["logConfiguration"] = {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": LOG_GROUP,
                "awslogs-region": server.region,
                "awslogs-stream-prefix": STREAM_PREFIX,
            },
        }
    ecs.create_cluster(clusterName=cluster)
    extra: dict[str, Any] = {}
    if awslogs:  # ECS pulls and logs for a FARGATE task with its execution role
        extra["executionRoleArn"] = _execution_role(server, f"{family}-execution")
    td = ecs.register_task_definition(
        family=family,
        **extra,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[definition],
    )
    arn = td["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=cluster,
        serviceName=service,
        taskDefinition=arn,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=network,
    )
    for client in (ec2, ecs, logs):
        client.close()
    made = EcsService(
        endpoint_url=server.endpoint_url,
        region=server.region,
        cluster=cluster,
        service=service,
        container=container,
        family=family,
        image=image,
        task_definition_arn=arn,
    )
    return made, network


def _execution_role(server: MotoServer, name: str) -> str:
    iam = server.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    try:
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    finally:
        iam.close()


@dataclass
class StartedTask:
    """One RunTask that reached moto, as the script saw it."""

    id: str
    cluster: str
    image: str
    task_definition: str
    overrides: dict[str, Any]
    network: dict[str, Any] | None
    launch_type: str
    started_by: str


@dataclass
class TaskScript:
    """What one-off tasks do: exit codes and log lines by image substring (first match wins; default exit 0)."""

    region: str
    exits: list[tuple[str, int]] = field(default_factory=list)
    lines: list[tuple[str, list[str]]] = field(default_factory=list)
    started: list[StartedTask] = field(default_factory=list)

    def exit(self, image: str, code: int, logs: list[str] | None = None) -> None:
        self.exits.insert(0, (image, code))
        if logs is not None:
            self.lines.insert(0, (image, logs))

    def _code(self, image: str) -> int:
        return next((code for sub, code in self.exits if sub in image), 0)

    def _logs(self, image: str) -> list[str]:
        return next((lines for sub, lines in self.lines if sub in image), [])

    def after_run(self, tasks: list[Any], backend: Any, args: dict[str, Any]) -> None:
        from moto.logs.models import logs_backends

        for task in tasks:
            container = task.containers[0]
            td = backend.describe_task_definition(task.task_definition_arn)
            container.exitCode = self._code(str(container.image))
            task.stopped_reason = "Essential container in task exited"
            self.started.append(
                StartedTask(
                    id=task.id,
                    cluster=task.cluster_name,
                    image=str(container.image),
                    task_definition=task.task_definition_arn.rsplit("/", 1)[-1],
                    overrides=dict(task.overrides),
                    network=args.get("networking_configuration"),
                    launch_type=str(task.launch_type),
                    started_by=str(task.started_by),
                )
            )
            options = (td.container_definitions[0].get("logConfiguration") or {}).get("options") or {}
            lines = self._logs(str(container.image))
            if lines and options.get("awslogs-group"):
                logs = logs_backends[backend.account_id][self.region]
                stream = f"{options['awslogs-stream-prefix']}/{container.name}/{task.id}"
                logs.create_log_stream(options["awslogs-group"], stream)
                now = int(time.time() * 1000)
                events = [{"timestamp": now + i, "message": line} for i, line in enumerate(lines)]
                logs.put_log_events(options["awslogs-group"], stream, events)


@contextmanager
def scripted_tasks(monkeypatch: pytest.MonkeyPatch, region: str) -> Iterator[TaskScript]:
    """Patch moto's RunTask (in this process) to follow a :class:`TaskScript`."""
    from moto.ecs.models import EC2ContainerServiceBackend

    script = TaskScript(region)
    original = EC2ContainerServiceBackend.run_task

    def run_task(backend: Any, *args: Any, **kwargs: Any) -> Any:
        tasks = original(backend, *args, **kwargs)
        script.after_run(tasks, backend, inspect.signature(original).bind(backend, *args, **kwargs).arguments)
        return tasks

    monkeypatch.setattr(EC2ContainerServiceBackend, "run_task", run_task)
    yield script
