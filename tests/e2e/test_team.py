"""End-to-end: a real `opsctl deploy` (moto ECS, the sandbox bot) with the shared lock and the S3 mirror."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import tests.support.team as team_support
from tests.e2e.harness import Project, TagBot, make_project
from tests.support import moto_server as aws_support
from tests.support.moto_server import EcsService, MotoServer
from tests.support.team import DEAD_ENDPOINT, Team

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service
atomic_dynamodb = team_support.atomic_dynamodb
team = team_support.team


def _team_config(project: Project, team: Team, s3_endpoint: str) -> None:
    path = project.path / "opsctl.yaml"
    config = yaml.safe_load(path.read_text())
    shared = team.config(s3_endpoint=s3_endpoint)
    config["locks"], config["audit"] = shared["locks"], shared["audit"]
    path.write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.fixture
def team_project(tmp_path: Path, team: Team, ecs_service: EcsService, aws: MotoServer) -> Iterator[Project]:
    with TagBot(ecs_service) as bot:
        project = make_project(tmp_path, ecs_service, aws, bot)
        _team_config(project, team, DEAD_ENDPOINT)
        yield project


def test_a_deploy_succeeds_while_s3_is_down_and_the_mirror_catches_up(team_project: Project, team: Team) -> None:
    done = team_project.deploy("hvb:1.8.0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert team_project.image() == "hvb:1.8.0"
    assert team.object_keys() == []
    status = team_project.run("status", "staging")
    assert "audit mirror: 1 run behind (queued since " in status.stdout, status.stdout + status.stderr
    assert "S3 is unreachable" in status.stdout
    lock = team_project.json("lock", "status", "staging")
    assert lock == {"env": "staging", "locked": False, "holder": None}  # released in DynamoDB at the end

    _team_config(team_project, team, team.endpoint_url)  # S3 is back
    pushed = team_project.run("audit", "push")
    assert pushed.returncode == 0, pushed.stderr
    assert "uploaded 1 run(s)" in pushed.stdout
    verified = team_project.run("audit", "verify", "--remote")
    assert verified.returncode == 0, verified.stderr
    assert "central audit trail consistent: 1 run objects from 1 logs" in verified.stdout
    releases = team_project.json("releases", "staging", "--remote")
    assert next((r["image"], r["verdict"], r["actor"]) for r in releases) == (
        "hvb:1.8.0",
        "verified",
        "e2e@example.com",
    )
    events = team_project.events()
    assert {e.get("caller_arn") for e in events if e["step"] == "run"} == {"arn:aws:sts::123456789012:user/moto"}
    assert json.loads(team_project.run("--json", "status", "staging").stdout)["audit_mirror"]["behind"] == 0
