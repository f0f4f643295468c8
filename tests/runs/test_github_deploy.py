"""GitHub Deployments for runs, against the loopback GitHub stand-in: exact payloads, best effort, journaled."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsctl.engine.context import RunContext
from opsctl.engine.request import RunRequest
from opsctl.git import deployments as deployments_module
from opsctl.net.retry import RetryPolicy
from opsctl.runs import github_deploy
from opsctl.runs.announce import announce, announce_end
from tests.support.context import base_config, make_ctx
from tests.support.github import REPO, GitHubDeploymentsApi

TOKEN = "gh-deploy-t0ken-0123456789abcdef"
HEALTH = "http://127.0.0.1:9"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubDeploymentsApi]:
    monkeypatch.setattr(
        deployments_module, "POLICY", RetryPolicy(attempts=2, backoff=0.01, budget=0.1, sleep=lambda _s: None)
    )
    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HVB_GH_TOKEN", TOKEN)
    api = GitHubDeploymentsApi(token=TOKEN)
    with api.running():
        yield api


def ctx_for(
    tmp_path: Path,
    api: GitHubDeploymentsApi,
    *,
    runbook: str = "deploy",
    env: str = "staging",
    image: str | None = "hvb:1.8.0",
    github: dict[str, Any] | None = None,
    **kwargs: Any,
) -> RunContext:
    config = base_config(github={"repo": REPO, "api_url": api.url, "token_env": "HVB_GH_TOKEN", **(github or {})})
    config["environments"]["development"] = {**config["environments"]["staging"]}
    tmp_path.mkdir(parents=True, exist_ok=True)
    params = {"image": image} if image else {}
    return make_ctx(tmp_path, config, env=env, runbook=runbook, request=RunRequest.from_params(params), **kwargs)


def journaled(ctx: RunContext) -> list[dict[str, Any]]:
    return [
        {k: e[k] for k in ("status", "deployment", "state", "ref", "summary") if k in e}
        for e in ctx.journal.log.events()
        if e["step"] == "github.deployment"
    ]


def finish(
    ctx: RunContext, status: str = "succeeded", summary: str = "deploy succeeded: r1 (hvb:1.8.0) verified"
) -> None:
    ctx.state.release = {"id": "r1", "image": str(ctx.request.image or "hvb:1.7.0")}
    announce_end(ctx, ctx.journal.runbook, status, summary)


def test_a_deploy_makes_a_deployment_in_progress_then_success(tmp_path: Path, github: GitHubDeploymentsApi) -> None:
    ctx = ctx_for(tmp_path, github)
    announce(ctx, "deploy.started")
    finish(ctx)
    create, in_progress, success, listing = github.requests
    assert (create.method, create.path) == ("POST", f"/repos/{REPO}/deployments")
    assert create.body == {
        "ref": "1.8.0",
        "task": "deploy",
        "auto_merge": False,
        "required_contexts": [],
        "payload": {"run": ctx.run_id, "runbook": "deploy", "image": "hvb:1.8.0"},
        "environment": "staging",
        "description": f"opsctl deploy of hvb:1.8.0 (run {ctx.run_id})",
        "transient_environment": False,
        "production_environment": False,
    }
    assert (in_progress.path, in_progress.body) == (
        f"/repos/{REPO}/deployments/101/statuses",
        {
            "state": "in_progress",
            "description": f"opsctl deploy started (run {ctx.run_id})",
            "environment_url": HEALTH,
            "auto_inactive": False,
        },
    )
    assert success.body == {
        "state": "success",
        "description": "deploy succeeded: r1 (hvb:1.8.0) verified",
        "environment_url": HEALTH,
        "auto_inactive": False,
    }
    assert (listing.method, listing.path, listing.query) == (
        "GET",
        f"/repos/{REPO}/deployments",
        {"environment": ["staging"], "per_page": ["10"]},
    )
    assert [r.headers["authorization"] for r in github.requests] == [f"Bearer {TOKEN}"] * 4
    assert journaled(ctx) == [
        {"status": "passed", "deployment": 101, "state": "created", "ref": "1.8.0"},
        {"status": "passed", "deployment": 101, "state": "in_progress"},
        {"status": "passed", "deployment": 101, "state": "success"},
    ]


def test_a_success_marks_the_deployment_it_replaced_inactive(tmp_path: Path, github: GitHubDeploymentsApi) -> None:
    first = ctx_for(tmp_path / "a", github, image="hvb:1.7.0")
    announce(first, "deploy.started")
    finish(first)
    failed = ctx_for(tmp_path / "b", github, image="hvb:1.8.0-bad")
    announce(failed, "deploy.started")
    finish(failed, "rolled_back", "step rollout failed; rolled back to r1 (hvb:1.7.0) and verified")
    second = ctx_for(tmp_path / "c", github, image="hvb:1.8.0")
    announce(second, "deploy.started")
    finish(second)
    assert github.states(101) == ["in_progress", "success", "inactive"]
    assert github.states(102) == ["in_progress", "failure"]
    assert github.states(103) == ["in_progress", "success"]
    assert github.statuses[101][-1] == {
        "state": "inactive",
        "description": f"replaced by deployment 103 (run {second.run_id})",
        "auto_inactive": False,
    }
    assert journaled(second)[-1] == {"status": "passed", "deployment": 101, "state": "inactive"}


def test_a_rollback_is_deployed_at_its_end_when_its_target_is_known(
    tmp_path: Path, github: GitHubDeploymentsApi
) -> None:
    ctx = ctx_for(tmp_path, github, runbook="rollback", image=None)
    announce(ctx, "rollback.started")
    assert github.requests == []
    finish(ctx, summary="rollback succeeded: r1 (hvb:1.7.0) verified")
    assert github.deployments[101]["task"] == "deploy:rollback"
    assert github.deployments[101]["ref"] == "1.7.0"
    assert github.states(101) == ["success"]


def test_transient_and_production_environments(tmp_path: Path, github: GitHubDeploymentsApi) -> None:
    dev = ctx_for(tmp_path / "a", github, env="development")
    announce(dev, "deploy.started")
    prod = ctx_for(tmp_path / "b", github, env="production", runbook="hot-patch")
    announce(prod, "deploy.started")
    assert [
        (d["environment"], d["task"], d["transient_environment"], d["production_environment"])
        for d in github.deployments.values()
    ] == [("development", "deploy", True, False), ("production", "deploy:hotpatch", False, True)]


def test_the_commit_of_the_image_is_the_ref_when_known(tmp_path: Path, github: GitHubDeploymentsApi) -> None:
    ctx = ctx_for(tmp_path, github, image="hvb:sha-4f3a9c1")
    assert github_deploy.git_ref(ctx, "hvb:sha-4f3a9c1") == "4f3a9c1"
    assert github_deploy.git_ref(ctx, "hvb:4f3a9c1d") == "4f3a9c1d"
    assert github_deploy.git_ref(ctx, "hvb@sha256:" + "a" * 64) is None
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}
    git = shutil.which("git")
    assert git, "git is needed for this test"
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "x"], ["tag", "v1.8.0"]):
        subprocess.run([git, *args], cwd=tmp_path, env={**env, "PATH": "/usr/bin:/bin"}, check=True)
    sha = subprocess.run([git, "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert github_deploy.git_ref(ctx, "hvb:1.8.0") == sha.stdout.strip()
    assert github_deploy.git_ref(ctx, "hvb:2.0.0") == "2.0.0"


def test_the_actions_run_is_the_log_url(
    tmp_path: Path, github: GitHubDeploymentsApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "2")
    ctx = ctx_for(tmp_path, github)
    announce(ctx, "deploy.started")
    assert github.statuses[101][0]["log_url"] == f"https://github.com/{REPO}/actions/runs/4242/attempts/2"


def test_github_refusing_never_fails_the_run_and_is_journaled(tmp_path: Path, github: GitHubDeploymentsApi) -> None:
    github.fail_next(1, 403, {"message": "Resource not accessible by integration"}, method="POST")
    ctx = ctx_for(tmp_path, github)
    announce(ctx, "deploy.started")
    finish(ctx)
    assert journaled(ctx)[0] == {
        "status": "warned",
        "summary": "GitHub deployment not created: GitHub refused POST /repos/acme/hvb/deployments: "
        "HTTP 403: Resource not accessible by integration",
    }
    # The end of the run tries again (a refusal is not an outage): it makes the deployment then.
    assert github.states(101) == ["success"]


def test_an_unreachable_github_is_tried_once_per_run(tmp_path: Path, github: GitHubDeploymentsApi) -> None:
    ctx = ctx_for(tmp_path, github)
    github.stop()
    announce(ctx, "deploy.started")
    finish(ctx)
    events = journaled(ctx)
    assert len(events) == 1
    assert events[0]["status"] == "warned"
    assert events[0]["summary"].startswith("GitHub deployment not created: GitHub POST /repos/acme/hvb/deployments")


def test_a_missing_token_is_one_warning_and_no_call(
    tmp_path: Path, github: GitHubDeploymentsApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = ctx_for(tmp_path, github)
    monkeypatch.delenv("HVB_GH_TOKEN")
    announce(ctx, "deploy.started")
    finish(ctx)
    assert github.requests == []
    assert journaled(ctx) == [
        {
            "status": "warned",
            "summary": "no GitHub deployment: HVB_GH_TOKEN is not set: "
            "export a GitHub token that can write deployments",
        }
    ]


def test_turned_off_dry_runs_and_checklists_make_none(tmp_path: Path, github: GitHubDeploymentsApi) -> None:
    for ctx in (
        ctx_for(tmp_path / "a", github, github={"deployments": False}),
        ctx_for(tmp_path / "b", github, dry_run=True),
        ctx_for(tmp_path / "c", github, runbook="smoke"),
    ):
        announce(ctx, "deploy.started")
        finish(ctx)
    assert github.requests == []


def test_a_resumed_run_finds_its_deployment_in_the_journal(tmp_path: Path, github: GitHubDeploymentsApi) -> None:
    ctx = ctx_for(tmp_path, github)
    announce(ctx, "deploy.started")
    github_deploy._made.clear()  # a new process: only the journal remembers
    finish(ctx)
    assert list(github.deployments) == [101]
    assert github.states(101) == ["in_progress", "success"]


def test_a_run_that_ends_by_an_error_marks_its_deployment_error(tmp_path: Path, github: GitHubDeploymentsApi) -> None:
    from opsctl.runs.github_deploy import run_aborted

    ctx = ctx_for(tmp_path, github)
    announce(ctx, "deploy.started")
    run_aborted(ctx, "ECS DescribeServices failed, state unknown")
    create, in_progress, error = github.requests
    assert create.path == f"/repos/{REPO}/deployments"
    assert in_progress.body["state"] == "in_progress"
    assert (error.path, error.body) == (
        f"/repos/{REPO}/deployments/101/statuses",
        {
            "state": "error",
            "description": "ECS DescribeServices failed, state unknown",
            "environment_url": HEALTH,
            "auto_inactive": False,
        },
    )
    assert journaled(ctx)[-1] == {"status": "passed", "deployment": 101, "state": "error"}


def test_an_error_before_any_deployment_creates_none(tmp_path: Path, github: GitHubDeploymentsApi) -> None:
    from opsctl.runs.github_deploy import run_aborted

    ctx = ctx_for(tmp_path, github)
    run_aborted(ctx, "the error budget policy stops normal changes")
    assert github.requests == []
    assert journaled(ctx) == []
