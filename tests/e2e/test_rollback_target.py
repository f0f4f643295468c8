"""The default rollback target: the last verified release, unless the platform can no longer deploy it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from opsctl.errors import BadInput
from opsctl.runs import RunOptions, execute
from opsctl.workspace import Workspace
from tests.support import moto_server as aws_support
from tests.support.moto_server import EcsService

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service

# Rollout-only runbooks: a succeeded run counts as verified, no bot is needed.
DEPLOY = """title: Deploy
change_type: standard
steps:
  - {id: plan, title: Plan, uses: platform.plan}
  - {id: deploy, title: Roll out, uses: platform.deploy}
"""
ROLLBACK = """title: Roll back
change_type: standard
steps:
  - {id: rollback, title: Roll back, uses: platform.rollback}
"""


def _workspace(tmp_path: Path, service: EcsService) -> Workspace:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "deploy.yaml").write_text(DEPLOY)
    (tmp_path / "runbooks" / "rollback.yaml").write_text(ROLLBACK)
    platform = service.platform_config(poll_interval="0.1s")
    (tmp_path / "opsctl.yaml").write_text(
        yaml.safe_dump({"service": "hvb", "environments": {"staging": {"platform": platform}}})
    )
    return Workspace.load(str(tmp_path / "opsctl.yaml"), actor="dev@example.com")


def _running(service: EcsService) -> str:
    client = service.client()
    arn = client.describe_services(cluster=service.cluster, services=[service.service])["services"][0]["taskDefinition"]
    return str(arn.rsplit("/", 1)[-1])


def test_default_target_is_the_last_verified_release(tmp_path: Path, ecs_service: EcsService) -> None:
    ws = _workspace(tmp_path, ecs_service)
    for image in ("hvb:1.8.0", "hvb:1.9.0"):
        assert execute(ws, "deploy", "staging", {"image": image, "timeout": 30}, RunOptions()).status == "succeeded"
    assert _running(ecs_service) == "hvb:3"

    result = execute(ws, "rollback", "staging", {"timeout": 30}, RunOptions())

    assert result.status == "succeeded", result.summary
    assert _running(ecs_service) == "hvb:2"
    assert "last verified release" in result.steps[0].summary


def test_a_verified_release_that_can_no_longer_deploy_is_no_target_and_to_names_another(
    tmp_path: Path, ecs_service: EcsService
) -> None:
    # Issue 13 item 4: this used to fall back silently to the platform's previous (never verified)
    # revision; now the rollback stops before any change and asks for --to.
    ws = _workspace(tmp_path, ecs_service)
    for image in ("hvb:1.8.0", "hvb:1.9.0"):
        assert execute(ws, "deploy", "staging", {"image": image, "timeout": 30}, RunOptions()).status == "succeeded"
    ecs_service.client().deregister_task_definition(taskDefinition="hvb:2")  # someone cleaned up by hand

    with pytest.raises(BadInput) as refused:
        execute(ws, "rollback", "staging", {"timeout": 30}, RunOptions())

    assert str(refused.value) == (
        "no verified release of staging can be deployed (hvb:2 (hvb:1.8.0) can no longer be deployed: "
        "task definition hvb:2 is INACTIVE (deregistered); ECS cannot deploy it); "
        "name one with --to RELEASE (see `opsctl releases staging`)"
    )
    assert _running(ecs_service) == "hvb:3"

    result = execute(ws, "rollback", "staging", {"to": "hvb:1", "timeout": 30}, RunOptions())

    assert result.status == "succeeded", result.summary
    assert _running(ecs_service) == "hvb:1", "hvb:2 is INACTIVE: the previous ACTIVE revision, named with --to"
    assert result.steps[0].summary == "rolled back to hvb:1 (hvb:1.7.0): named with --to"
