"""GitHub Deployments end to end: ``opsctl deploy`` against moto ECS, the bot and the GitHub stand-in."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e import harness
from tests.e2e.harness import Project
from tests.e2e.policy.support import MINIMAL_PRE_DEPLOY
from tests.support import moto_server as aws_support
from tests.support.github import REPO, GitHubDeploymentsApi

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service
project = harness.project
TOKEN = "gh-e2e-deploy-t0ken-0123456789"


@pytest.fixture
def github() -> Iterator[GitHubDeploymentsApi]:
    api = GitHubDeploymentsApi(token=TOKEN)
    with api.running():
        yield api


@pytest.fixture
def on_github(project: Project, github: GitHubDeploymentsApi) -> Project:
    path = project.path / "opsctl.yaml"
    config = yaml.safe_load(path.read_text())
    config["github"] = {"repo": REPO, "api_url": github.url, "token_env": "HVB_GH_TOKEN"}
    path.write_text(yaml.safe_dump(config))
    # The built-in gates would ask GitHub for CI checks and reviews: this test is about deployments only.
    (project.path / "checklists").mkdir()
    (project.path / "checklists" / "pre-deploy.yaml").write_text(MINIMAL_PRE_DEPLOY)
    project.env = {**project.env, "HVB_GH_TOKEN": TOKEN}
    return project


def deploy(project: Project, image: str) -> subprocess.CompletedProcess[str]:
    return project.run("deploy", "staging", "--image", image, "--timeout", "20s")


def test_deploys_show_on_github_with_statuses_and_the_replaced_one_goes_inactive(
    on_github: Project, github: GitHubDeploymentsApi
) -> None:
    first = deploy(on_github, "hvb:1.8.0")
    assert first.returncode == 0, first.stdout + first.stderr
    run = on_github.runs()[0]["run"]
    assert github.deployments[101] == {
        "ref": "1.8.0",
        "task": "deploy",
        "auto_merge": False,
        "required_contexts": [],
        "payload": {"run": run, "runbook": "deploy", "image": "hvb:1.8.0"},
        "environment": "staging",
        "description": f"opsctl deploy of hvb:1.8.0 (run {run})",
        "transient_environment": False,
        "production_environment": False,
    }
    assert github.states(101) == ["in_progress", "success"]
    assert github.statuses[101][1]["environment_url"] == on_github.bot.url

    bad = deploy(on_github, "hvb:1.9.0-bad")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert github.states(102) == ["in_progress", "failure"]
    assert github.states(101) == ["in_progress", "success"]  # still what runs: the rollback put it back

    second = deploy(on_github, "hvb:2.0.0")
    assert second.returncode == 0, second.stdout + second.stderr
    assert github.states(103) == ["in_progress", "success"]
    assert github.states(101) == ["in_progress", "success", "inactive"]
    steps = [(e["status"], e.get("state")) for e in on_github.events() if e["step"] == "github.deployment"]
    assert steps[-4:] == [
        ("passed", "created"),
        ("passed", "in_progress"),
        ("passed", "success"),
        ("passed", "inactive"),
    ]


def test_a_dead_github_never_fails_a_deploy(on_github: Project, github: GitHubDeploymentsApi) -> None:
    github.stop()
    done = deploy(on_github, "hvb:1.8.0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert on_github.image() == "hvb:1.8.0"
    (warned,) = [e for e in on_github.events() if e["step"] == "github.deployment"]
    assert warned["status"] == "warned"
    assert warned["summary"].startswith("GitHub deployment not created: GitHub POST /repos/acme/hvb/deployments")
    assert TOKEN not in (Path(on_github.path) / ".opsctl" / "audit.jsonl").read_text()
