"""Approvals on the pull request that merged a commit: the logic the github.approved gate and the policy share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from opsctl.config import Config, load_config
from opsctl.errors import BadInput
from opsctl.git.approvals import (
    ApprovalVerdict,
    choose_pull,
    image_approvals,
    image_commit,
    latest_verdicts,
    review_approvals,
)
from opsctl.git.changes import Resolved
from opsctl.git.github import GitHub, PullRequest, Review
from opsctl.notify.deliver import RetryPolicy
from opsctl.values.redact import Redactor
from tests.notify.support import Sleeps
from tests.support.context import base_config, write_config
from tests.support.github import API, GITHUB, REPO, TOKEN, fast, repo_url
from tests.support.gitrepo import TestRepo, make_repo

SHA = "b" * 40


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    fast(monkeypatch)


def github() -> GitHub:
    return GitHub(REPO, TOKEN, api_url=API, token_env="HVB_GH_TOKEN", policy=RetryPolicy(attempts=1, sleep=Sleeps()))


def pull(number: int, *, merged: bool = True, merge_sha: str | None = None, author: str = "octo") -> dict[str, Any]:
    return {
        "number": number,
        "title": f"PR {number}",
        "user": {"login": author},
        "state": "closed" if merged else "open",
        "merged_at": "2026-11-26T12:00:00Z" if merged else None,
        "merge_commit_sha": merge_sha,
        "html_url": f"https://github.example/acme/hvb/pull/{number}",
    }


def review(user: str, state: str) -> dict[str, Any]:
    return {"user": {"login": user}, "state": state, "submitted_at": "2026-11-26T10:00:00Z"}


def mock(sha: str, pulls: list[dict[str, Any]], reviews: list[dict[str, Any]]) -> None:
    respx.get(repo_url(f"/commits/{sha}/pulls")).respond(200, json=pulls)
    for p in pulls:
        respx.get(repo_url(f"/pulls/{p['number']}/reviews")).respond(200, json=reviews)


def test_latest_verdicts_keeps_each_reviewers_last_decisive_review() -> None:
    reviews = [
        Review("Alice", "APPROVED"),
        Review("alice", "COMMENTED"),  # a comment changes no verdict
        Review("carol", "CHANGES_REQUESTED"),
        Review("carol", "APPROVED"),
        Review("dave", "APPROVED"),
        Review("dave", "DISMISSED"),
        Review("", "APPROVED"),  # a deleted account
    ]
    assert {login: r.state for login, r in latest_verdicts(reviews).items()} == {
        "alice": "APPROVED",
        "carol": "APPROVED",
        "dave": "DISMISSED",
    }


def test_choose_pull_prefers_the_one_that_merged_the_commit() -> None:
    def made(number: int, merged_at: str | None, merge_sha: str | None) -> PullRequest:
        return PullRequest(number, "t", "octo", "closed", merged_at, merge_sha)

    other, exact, unmerged = made(3, "2026-11-01", "c" * 40), made(12, "2026-11-26", SHA), made(14, None, None)
    assert choose_pull([other, exact, unmerged], SHA) is exact
    assert choose_pull([unmerged, other], SHA) is other
    assert choose_pull([unmerged], SHA) is unmerged
    assert choose_pull([], SHA) is None


@respx.mock
def test_enough_approvals_not_counting_the_author_or_the_deployer() -> None:
    mock(
        SHA,
        [pull(3, merge_sha="c" * 40), pull(12, merge_sha=SHA)],
        [review("alice", "APPROVED"), review("octo", "APPROVED"), review("Deployer", "APPROVED")],
    )
    with github() as gh:
        verdict = review_approvals(gh, Resolved(SHA, "git tag v1.8.0"), needed=1, deployer="deployer")
    assert verdict == ApprovalVerdict(
        True,
        "PR #12 approved by alice (1 of 1 required); approval by octo, Deployer does not count (author or deployer)",
        ("alice",),
        {
            "sha": SHA,
            "commit": "git tag v1.8.0",
            "pull": 12,
            "url": "https://github.example/acme/hvb/pull/12",
            "title": "PR 12",
            "author": "octo",
            "approvers": ["alice"],
            "required": 1,
            "changes_requested": [],
        },
    )


@respx.mock
def test_too_few_approvals_on_an_unmerged_pull_request() -> None:
    mock(SHA, [pull(14, merged=False)], [review("erin", "CHANGES_REQUESTED"), review("frank", "APPROVED")])
    with github() as gh:
        verdict = review_approvals(gh, Resolved(SHA, "HEAD"), needed=2, deployer="deployer")
    assert (verdict.ok, verdict.summary, verdict.approvers) == (
        False,
        "PR #14 (not merged) has 1 approval(s), 2 required; changes requested by erin",
        ("frank",),
    )
    assert verdict.detail["changes_requested"] == ["erin"]


@respx.mock
def test_no_pull_request_is_a_failed_verdict() -> None:
    mock(SHA, [], [])
    with github() as gh:
        verdict = review_approvals(gh, Resolved(SHA, "HEAD"), needed=1, deployer="deployer")
    assert verdict == ApprovalVerdict(
        False,
        "no pull request found for bbbbbbb (HEAD): changes must be merged through a reviewed pull request",
        (),
        {"sha": SHA},
    )


@pytest.fixture
def repo(tmp_path: Path) -> TestRepo:
    made = make_repo(tmp_path)
    made.commit("first")
    made.tag("v1.8.0")
    made.commit("after the release")
    return made


def test_image_commit_follows_the_images_tag_else_head(tmp_path: Path, repo: TestRepo) -> None:
    release = repo.repo.tags["v1.8.0"].commit.hexsha
    head = repo.repo.head.commit.hexsha
    assert image_commit(tmp_path, "hvb:1.8.0") == Resolved(release, "image hvb:1.8.0: git tag v1.8.0")
    assert image_commit(tmp_path, "hvb:2.0.0") == Resolved(head, "HEAD (the tag of hvb:2.0.0 is no commit or tag here)")
    assert image_commit(tmp_path, None) == Resolved(head, "HEAD")


def test_image_commit_outside_a_repository_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as caught:
        image_commit(tmp_path, "hvb:1.8.0")
    assert str(caught.value) == f"{tmp_path} is not inside a git repository; give the commit with: sha or ref"


def config(tmp_path: Path, **overrides: Any) -> Config:
    return load_config(write_config(tmp_path, base_config(**overrides)))


@respx.mock
def test_image_approvals_for_the_image_being_deployed(
    tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HVB_GH_TOKEN", TOKEN)
    release = repo.repo.tags["v1.8.0"].commit.hexsha
    mock(release, [pull(12, merge_sha=release)], [review("alice", "APPROVED"), review("bob", "APPROVED")])
    redactor = Redactor()
    verdict = image_approvals(
        config(tmp_path, github=GITHUB), redactor, tmp_path, "hvb:1.8.0", needed=2, deployer="carol"
    )
    assert (verdict.ok, verdict.summary, verdict.approvers) == (
        True,
        "PR #12 approved by alice, bob (2 of 2 required)",
        ("alice", "bob"),
    )
    assert verdict.detail["commit"] == "image hvb:1.8.0: git tag v1.8.0"
    assert TOKEN not in redactor.text(f"token {TOKEN}")


@respx.mock
def test_a_github_that_cannot_answer_is_a_failed_verdict(
    tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HVB_GH_TOKEN", TOKEN)
    head = repo.repo.head.commit.hexsha
    respx.get(repo_url(f"/commits/{head}/pulls")).mock(side_effect=httpx.ConnectError("refused"))
    verdict = image_approvals(config(tmp_path, github=GITHUB), Redactor(), tmp_path, None, needed=1, deployer="carol")
    assert verdict == ApprovalVerdict(
        False, f"GitHub API /repos/acme/hvb/commits/{head}/pulls: connection refused (gave up after 3 attempts)"
    )


def test_image_approvals_without_github_config_or_token_is_bad_input(
    tmp_path: Path, repo: TestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(BadInput) as caught:
        image_approvals(config(tmp_path), Redactor(), tmp_path, None, needed=1, deployer="carol")
    assert str(caught.value) == "opsctl.yaml has no github: section; add github: {repo: owner/name} to it"
    monkeypatch.delenv("HVB_GH_TOKEN", raising=False)
    with pytest.raises(BadInput) as caught:
        image_approvals(config(tmp_path, github=GITHUB), Redactor(), tmp_path, None, needed=1, deployer="carol")
    assert str(caught.value) == (
        "HVB_GH_TOKEN is not set: export a GitHub token with repo:status and pull request read access"
    )
