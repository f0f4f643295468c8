"""ECS pre-flight checks against moto on 127.0.0.1: roles in IAM, secrets in Secrets Manager / SSM, log groups."""

from __future__ import annotations

import json
from typing import Any

from opsctl.config import EcsPlatformConfig
from opsctl.registry.resolve import AwsAccess
from opsctl.verify.ecs import check_logs, check_roles, check_secrets, make_clients
from opsctl.verify.image import Reach
from opsctl.verify.result import Verdict
from tests.support import moto_server as aws_support
from tests.support.moto_server import MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws

TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def _clients(server: MotoServer) -> Any:
    config = EcsPlatformConfig(kind="ecs", region=server.region, cluster="c", service="s", container="bot")
    return make_clients(config, Reach(aws=AwsAccess(endpoint_url=server.endpoint_url)))


def _td(**extra: Any) -> dict[str, Any]:
    container = {"name": "bot", "image": "hvb:1", **extra.pop("container", {})}
    return {
        "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/hvb:3",
        "containerDefinitions": [container],
        **extra,
    }


def test_roles_present_and_missing(aws: MotoServer) -> None:
    iam = aws.client("iam")
    task_role = iam.create_role(RoleName="hvb-task", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    missing = "arn:aws:iam::123456789012:role/hvb-execution"
    checks = check_roles(_td(taskRoleArn=task_role, executionRoleArn=missing), _clients(aws), needs_execution=None)
    assert [(c.verdict, c.summary) for c in checks] == [
        (Verdict.PASSED, "task role hvb-task exists"),
        (Verdict.FAILED, f"execution role {missing} (hvb:3) does not exist in IAM"),
    ]


def test_secrets_need_an_execution_role(aws: MotoServer) -> None:
    checks = check_roles(_td(), _clients(aws), needs_execution="secrets and awslogs")
    assert [(c.verdict, c.summary) for c in checks] == [
        (Verdict.PASSED, "hvb:3 names no task role"),
        (Verdict.FAILED, "hvb:3 has secrets and awslogs but no execution role"),
    ]


def test_secrets_are_described_never_read(aws: MotoServer) -> None:
    sm = aws.client("secretsmanager")
    arn = sm.create_secret(Name="hvb/db", SecretString="postgres://secret-value")["ARN"]
    aws.client("ssm").put_parameter(Name="/hvb/openai", Value="sk-secret", Type="SecureString")
    gone = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hvb/gone-AbCdEf"
    td = _td(
        container={
            "secrets": [
                {"name": "DATABASE_URL", "valueFrom": f"{arn}:url::"},
                {"name": "OPENAI_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/hvb/openai"},
                {"name": "WHATSAPP_TOKEN", "valueFrom": "/hvb/whatsapp"},
                {"name": "OLD", "valueFrom": gone},
            ]
        }
    )
    checks = check_secrets(td, _clients(aws))
    assert [(c.verdict, c.summary) for c in checks] == [
        (Verdict.PASSED, "secret DATABASE_URL of container bot: hvb/db exists"),
        (Verdict.PASSED, "secret OPENAI_KEY of container bot: parameter /hvb/openai exists"),
        (Verdict.FAILED, "secret WHATSAPP_TOKEN of container bot: parameter /hvb/whatsapp does not exist in SSM"),
        (Verdict.FAILED, f"secret OLD of container bot: {gone} does not exist in Secrets Manager"),
    ]
    assert "secret-value" not in repr(checks)


def test_log_groups(aws: MotoServer) -> None:
    aws.client("logs").create_log_group(logGroupName="/ecs/hvb")
    present = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/hvb", "awslogs-region": "eu-west-1"}}
    missing = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/hvb-new", "awslogs-region": "eu-west-1"}}
    created = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/other", "awslogs-create-group": "true"}}
    clients = _clients(aws)
    summaries = [
        check_logs(_td(container={"logConfiguration": c}), clients)[0].summary for c in (present, missing, created)
    ]
    assert summaries == [
        "log group /ecs/hvb of container bot exists",
        "log group /ecs/hvb-new in eu-west-1 of container bot does not exist: create it, "
        "or set awslogs-create-group: 'true'",
        "log group /ecs/other will be created (awslogs-create-group)",
    ]
    none = check_logs(_td(), clients)[0]
    assert (none.verdict, none.summary) == (Verdict.NOT_CHECKED, "hvb:3 sends no logs to CloudWatch (no awslogs)")


def test_unreachable_iam_is_unavailable() -> None:
    from tests.support.registry import free_port

    config = EcsPlatformConfig(kind="ecs", region="eu-west-1", cluster="c", service="s", container="bot")
    dead = f"http://127.0.0.1:{free_port()}"
    clients = make_clients(config, Reach(aws=AwsAccess(endpoint_url=dead)))
    role = "arn:aws:iam::123456789012:role/hvb-task"
    check = check_roles(_td(taskRoleArn=role), clients, needs_execution=None)[0]
    assert check.verdict is Verdict.UNAVAILABLE
    assert check.summary.startswith(
        "IAM is unavailable (reading task role hvb-task): Could not connect to the endpoint URL"
    )
    assert check.summary.endswith("; nothing was changed, try again")
