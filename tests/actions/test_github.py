"""github.checks and github.approved against respx, with the commit taken from a real local repo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from opsctl.actions.github import ApprovedParams, ChecksParams, github_approved, github_checks
from opsctl.engine.checklist import run_checklist
from opsctl.engine.context import RunContext
from opsctl.engine.loader import load_checklist
from opsctl.engine.outcome import Outcome, Status
from opsctl.errors import BadInput
from tests.support.context import base_config, make_ctx
from tests.support.github import TOKEN, fast, gh_ctx, repo_url, run, status
from tests.support.gitrepo import TestRepo, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> TestRepo:
    made = make_repo(tmp_path)
    made.commit("first")
    made.tag("v1.8.0")
    made.commit("after the release")
    return made


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    fast(monkeypatch)


def release_sha(repo: TestRepo) -> str:
    return repo.repo.tags["v1.8.0"].commit.hexsha


def mock_ci(sha: str, runs: list[dict[str, Any]], statuses: list[dict[str, Any]]) -> None:
    respx.get(repo_url(f"/commits/{sha}/check-runs")).respond(200, json={"total_count": len(runs), "check_runs": runs})
    respx.get(repo_url(f"/commits/{sha}/status")).respond(200, json={"state": "x", "statuses": statuses})


def checks(ctx: RunContext, **with_: Any) -> Outcome:
    return github_checks(ctx, ChecksParams.model_validate(with_))


def approved(ctx: RunContext, **with_: Any) -> Outcome:
    return github_approved(ctx, ApprovedParams.model_validate(with_))


@respx.mock
def test_checks_green_for_the_images_commit(tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    sha = release_sha(repo)
    mock_ci(
        sha,
        [run("lint"), run("docs", conclusion="skipped"), run("unit", conclusion="neutral")],
        [status("deploy/preview", "success")],
    )
    ctx = gh_ctx(tmp_path, monkeypatch, params={"image": "hvb:1.8.0"})

    outcome = checks(ctx)

    assert (outcome.status, outcome.summary) == (
        Status.PASSED,
        f"all 4 CI checks green on {sha[:7]} (image hvb:1.8.0: git tag v1.8.0)",
    )
    assert outcome.detail["sha"] == sha


@respx.mock
def test_pending_and_failing_checks_are_named(tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    head = repo.repo.head.commit.hexsha
    mock_ci(
        head,
        [
            run("lint"),
            run("e2e", "in_progress", None),
            run("unit", conclusion="failure"),
            run("build", conclusion="cancelled"),
        ],
        [status("codecov", "pending"), status("security", "error")],
    )
    ctx = gh_ctx(tmp_path, monkeypatch)

    outcome = checks(ctx, required=["lint", "sonar"])

    assert outcome.status is Status.FAILED
    assert outcome.summary == (
        f"CI is not green on {head[:7]} (HEAD): failing: unit (failure), build (cancelled), security (error); "
        "pending: e2e (in_progress), codecov (pending); not reported: sonar"
    )
    assert outcome.detail["pending"] == ["e2e", "codecov"]


@respx.mock
def test_no_checks_at_all_fails(tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    head = repo.repo.head.commit.hexsha
    mock_ci(head, [], [])
    outcome = checks(gh_ctx(tmp_path, monkeypatch))
    assert (outcome.status, outcome.summary) == (Status.FAILED, f"no CI checks reported for {head[:7]}")


@respx.mock
def test_ignored_checks_do_not_count(tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    head = repo.repo.head.commit.hexsha
    mock_ci(head, [run("lint"), run("optional/perf", conclusion="failure")], [])
    outcome = checks(gh_ctx(tmp_path, monkeypatch), ignore=["optional/*"])
    assert (outcome.status, outcome.summary) == (Status.PASSED, f"all 1 CI checks green on {head[:7]} (HEAD)")


@respx.mock
def test_explicit_sha_and_remote_ref(tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    remote = "b" * 40  # not in the local clone: used as given
    mock_ci(remote, [run("lint")], [])
    ctx = gh_ctx(tmp_path, monkeypatch)
    assert checks(ctx, sha=remote).summary == f"all 1 CI checks green on bbbbbbb (commit {remote[:12]})"

    respx.get(repo_url("/commits/feature-x")).respond(200, json={"sha": remote})
    assert checks(ctx, ref="feature-x").summary == "all 1 CI checks green on bbbbbbb (feature-x on GitHub)"


@respx.mock
def test_an_image_tag_unknown_locally_falls_back_to_head_and_says_so(
    tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = repo.repo.head.commit.hexsha
    mock_ci(head, [run("lint")], [])
    outcome = checks(gh_ctx(tmp_path, monkeypatch), image="hvb:latest")
    assert outcome.summary == (
        f"all 1 CI checks green on {head[:7]} (HEAD (the tag of hvb:latest is no commit or tag here))"
    )


@respx.mock
def test_api_failure_is_a_failed_gate(tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    head = repo.repo.head.commit.hexsha
    respx.get(repo_url(f"/commits/{head}/check-runs")).respond(401, json={"message": "Bad credentials"})
    outcome = checks(gh_ctx(tmp_path, monkeypatch))
    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        "GitHub rejected the token from HVB_GH_TOKEN (HTTP 401): Bad credentials",
    )


def test_missing_token_stops_with_the_exact_message(
    tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = gh_ctx(tmp_path, monkeypatch, token=False)
    with pytest.raises(BadInput) as caught:
        checks(ctx)
    assert str(caught.value) == (
        "HVB_GH_TOKEN is not set: export a GitHub token with repo:status and pull request read access"
    )


def test_missing_github_section_stops_with_the_exact_message(tmp_path: Path, repo: TestRepo) -> None:
    ctx = make_ctx(tmp_path, base_config())
    with pytest.raises(BadInput) as caught:
        approved(ctx, approvals=1)
    assert str(caught.value) == "opsctl.yaml has no github: section; add github: {repo: owner/name} to it"


def mock_pull(sha: str, reviews: list[dict[str, Any]], *, author: str = "octo") -> respx.Route:
    pulls = [
        {
            "number": 3,
            "title": "older",
            "user": {"login": "x"},
            "state": "closed",
            "merged_at": "2026-11-01T00:00:00Z",
            "merge_commit_sha": "c" * 40,
            "html_url": "https://github.example/acme/hvb/pull/3",
        },
        {
            "number": 12,
            "title": "Late checkout",
            "user": {"login": author},
            "state": "closed",
            "merged_at": "2026-11-26T12:00:00Z",
            "merge_commit_sha": sha,
            "html_url": "https://github.example/acme/hvb/pull/12",
        },
    ]
    respx.get(repo_url(f"/commits/{sha}/pulls")).respond(200, json=pulls)
    return respx.get(repo_url("/pulls/12/reviews")).respond(200, json=reviews)


def review(user: str, state: str) -> dict[str, Any]:
    return {"user": {"login": user}, "state": state, "submitted_at": "2026-11-26T10:00:00Z"}


@respx.mock
def test_approved_counts_each_reviewers_latest_verdict(
    tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = release_sha(repo)
    mock_pull(
        sha,
        [
            review("alice", "APPROVED"),
            review("alice", "COMMENTED"),  # a later comment keeps the approval
            review("carol", "CHANGES_REQUESTED"),
            review("carol", "APPROVED"),
            review("dave", "APPROVED"),
            review("dave", "DISMISSED"),
            review("bob", "COMMENTED"),
        ],
    )
    ctx = gh_ctx(tmp_path, monkeypatch, env="production", params={"image": "hvb:1.8.0"})

    outcome = approved(ctx)

    assert (outcome.status, outcome.summary) == (Status.PASSED, "PR #12 approved by alice, carol (2 of 2 required)")
    assert outcome.detail["approvers"] == ["alice", "carol"]
    assert (outcome.detail["pull"], outcome.detail["author"]) == (12, "octo")


@respx.mock
def test_the_deployers_own_approval_does_not_count(
    tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = release_sha(repo)
    mock_pull(sha, [review("Deployer", "APPROVED"), review("erin", "CHANGES_REQUESTED")])
    ctx = gh_ctx(tmp_path, monkeypatch, params={"image": "hvb:1.8.0"})
    ctx.actor = "deployer"

    outcome = approved(ctx)

    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        "PR #12 has 0 approval(s), 1 required; changes requested by erin; "
        "approval by Deployer does not count (author or deployer)",
    )
    assert outcome.detail["changes_requested"] == ["erin"]


@respx.mock
def test_a_commit_without_a_pull_request_fails(tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    head = repo.repo.head.commit.hexsha
    respx.get(repo_url(f"/commits/{head}/pulls")).respond(200, json=[])
    outcome = approved(gh_ctx(tmp_path, monkeypatch))
    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        f"no pull request found for {head[:7]} (HEAD): changes must be merged through a reviewed pull request",
    )


def test_zero_approvals_needs_no_api_call(tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    outcome = approved(gh_ctx(tmp_path, monkeypatch, token=False), approvals=0)
    assert (outcome.status, outcome.summary) == (Status.PASSED, "no approvals required (approvals: 0)")


@respx.mock
def test_run_as_a_checklist_the_token_never_reaches_the_audit_log(
    tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = repo.repo.head.commit.hexsha
    (tmp_path / "checklists").mkdir()
    (tmp_path / "checklists" / "gh.yaml").write_text(
        "title: GitHub gates\nitems:\n"
        "  - {id: ci, title: All tests passing, uses: github.checks}\n"
        "  - {id: review, title: Code review approved, uses: github.approved, with: {approvals: 1}}\n"
    )
    # A misbehaving proxy that echoes the credentials back must not leak them either.
    respx.get(repo_url(f"/commits/{head}/check-runs")).respond(500, text=f"upstream said {TOKEN}")
    respx.get(repo_url(f"/commits/{head}/pulls")).mock(side_effect=httpx.ConnectError("refused"))
    ctx = gh_ctx(tmp_path, monkeypatch)

    result = run_checklist(ctx, load_checklist("gh", tmp_path))

    assert [i.status for i in result.items] == [Status.FAILED, Status.FAILED]
    assert result.items[1].summary == (
        f"GitHub API /repos/acme/hvb/commits/{head}/pulls: connection refused (gave up after 3 attempts)"
    )
    log = (ctx.state_dir / "audit.jsonl").read_text()
    assert '"step":"gh/ci","status":"failed"' in log
    assert TOKEN not in log
    assert TOKEN not in str(result.as_dict())
