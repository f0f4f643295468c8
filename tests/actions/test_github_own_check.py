"""github.checks inside GitHub Actions: the check run of the job opsctl runs in is not waited on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import respx

from opsctl.actions.github import ChecksParams, github_checks
from opsctl.engine.outcome import Status
from tests.support.github import fast, gh_ctx, repo_url, run
from tests.support.gitrepo import TestRepo, make_repo

OWN = "https://github.com/acme/hvb/actions/runs/4242/job/7"
SIBLING = "https://github.com/acme/hvb/actions/runs/4242/job/6"
EARLIER = "https://github.com/acme/hvb/actions/runs/4100/job/3"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestRepo:
    fast(monkeypatch)
    for name in ("GITHUB_RUN_ID", "GITHUB_JOB", "GITHUB_WORKSPACE", "GITHUB_WORKFLOW_REF", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    made = make_repo(tmp_path)
    made.commit("first")
    return made


def in_actions(monkeypatch: pytest.MonkeyPatch, job: str = "staging") -> None:
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    monkeypatch.setenv("GITHUB_JOB", job)


def mock_runs(sha: str, runs: list[dict[str, Any]]) -> None:
    respx.get(repo_url(f"/commits/{sha}/check-runs")).respond(200, json={"total_count": len(runs), "check_runs": runs})
    respx.get(repo_url(f"/commits/{sha}/status")).respond(200, json={"state": "x", "statuses": []})


def checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    return github_checks(gh_ctx(tmp_path, monkeypatch), ChecksParams())


@respx.mock
def test_its_own_in_progress_job_is_left_out(tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    head = repo.repo.head.commit.hexsha
    mock_runs(
        head,
        [
            run("image", details_url=SIBLING),
            run("lint", details_url=EARLIER),
            run("staging", "in_progress", None, details_url=OWN),
        ],
    )
    in_actions(monkeypatch)

    outcome = checks(tmp_path, monkeypatch)

    assert (outcome.status, outcome.summary) == (
        Status.PASSED,
        f"all 2 CI checks green on {head[:7]} (HEAD) (not counting staging: the job this run is part of)",
    )
    assert outcome.detail["own_check_runs"] == ["staging"]
    assert [c["name"] for c in outcome.detail["checks"]] == ["image", "lint"]


@respx.mock
def test_without_the_github_env_its_job_is_pending(
    tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = repo.repo.head.commit.hexsha
    mock_runs(head, [run("lint"), run("staging", "in_progress", None, details_url=OWN)])

    outcome = checks(tmp_path, monkeypatch)

    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        f"CI is not green on {head[:7]} (HEAD): pending: staging (in_progress)",
    )
    assert "own_check_runs" not in outcome.detail


@respx.mock
def test_the_same_job_of_another_run_and_other_jobs_of_this_run_still_count(
    tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = repo.repo.head.commit.hexsha
    mock_runs(
        head,
        [
            run("staging", "completed", "failure", details_url=EARLIER),
            run("e2e", "in_progress", None, details_url=SIBLING),
        ],
    )
    in_actions(monkeypatch)

    outcome = checks(tmp_path, monkeypatch)

    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        f"CI is not green on {head[:7]} (HEAD): failing: staging (failure); pending: e2e (in_progress)",
    )


@respx.mock
def test_only_its_own_check_run_is_no_ci_at_all(
    tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = repo.repo.head.commit.hexsha
    mock_runs(head, [run("Deploy to staging", "in_progress", None, details_url=OWN)])
    in_actions(monkeypatch)
    workflows = repo.path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "deploy.yml").write_text("jobs:\n  staging:\n    name: Deploy to staging\n")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(repo.path))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/hvb")
    monkeypatch.setenv("GITHUB_WORKFLOW_REF", "acme/hvb/.github/workflows/deploy.yml@refs/tags/v1.8.0")

    outcome = checks(tmp_path, monkeypatch)

    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        f"no CI checks reported for {head[:7]} (not counting Deploy to staging: the job this run is part of)",
    )
