"""Approvals: normal changes to an environment with ``requires: {approvals: 1}`` need someone else's yes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.policy.support import (
    ACTOR,
    APPROVER,
    CONFIRMS,
    MINIMAL_PRE_DEPLOY,
    Project,
    Receiver,
    error_line,
    output,
    step_events,
)

GH_TOKEN = "gh-policy-token-0123456789abcdef"  # not a ghp_ shape: only opsctl registering it hides it
REPO = "acme/hvb"
NEEDS_APPROVAL = (
    "error: production needs 1 approval(s) for a normal change, got 0: pass --approved-by NAME (someone other than you)"
)


@pytest.fixture
def guarded(project: Project) -> Project:
    project.configure(production={"requires": {"approvals": 1}})
    return project


def test_a_normal_change_without_an_approval_is_refused(guarded: Project) -> None:
    result = guarded.deploy("production", "hvb:1.8.0")

    assert result.exit_code == 1, output(result)
    assert error_line(result) == NEEDS_APPROVAL
    assert guarded.image("production") == "hvb:1.7.0"


@pytest.mark.parametrize("approver", [ACTOR, "DEV@Example.com"], ids=["same", "same-other-case"])
def test_the_approver_may_not_be_the_actor(guarded: Project, approver: str) -> None:
    result = guarded.deploy("production", "hvb:1.8.0", "--approved-by", approver)

    assert result.exit_code == 2, output(result)
    assert error_line(result) == (
        f"error: --approved-by {approver}: the approver may not be the person deploying ({ACTOR})"
    )
    assert guarded.image("production") == "hvb:1.7.0"


def test_another_approver_passes_is_recorded_and_a_rollback_needs_none(guarded: Project) -> None:
    result = guarded.deploy("production", "hvb:1.8.0", "--approved-by", APPROVER, "--reason", "CHG-12 release")

    assert result.exit_code == 0, output(result)
    assert guarded.image("production") == "hvb:1.8.0"
    events = guarded.events(guarded.last_run())
    (approval,) = step_events(events, "policy.approvals")
    assert (approval["status"], approval["approved_by"]) == ("passed", [APPROVER])
    assert approval["summary"] == f"approved by {APPROVER} (--approved-by)"
    started = next(e for e in events if e["step"] == "run" and e["status"] == "started")
    assert (started["params"]["approved_by"], started["params"]["reason"]) == ([APPROVER], "CHG-12 release")
    assert started["change_type"] == "normal"

    # A rollback is a standard change: no approval asked for, the reason recorded.
    # (--to: only the running release was ever verified, and a rollback no longer picks an unverified one.)
    back = guarded.invoke(
        "rollback", "production", "--to", "hvb:1.7.0", "--yes", "--timeout", "20s", "--reason", "login errors"
    )

    assert back.exit_code == 0, output(back)
    assert guarded.image("production") == "hvb:1.7.0"
    events = guarded.events(guarded.last_run())
    assert step_events(events, "policy.approvals") == []
    started = next(e for e in events if e["step"] == "run" and e["status"] == "started")
    assert (started["change_type"], started["params"]["reason"]) == ("standard", "login errors")


def test_one_person_named_twice_is_one_approval(project: Project) -> None:
    project.configure(production={"requires": {"approvals": 2}})

    result = project.deploy("production", "hvb:1.8.0", "--approved-by", APPROVER, "--approved-by", APPROVER.upper())

    assert result.exit_code == 1, output(result)
    assert error_line(result) == (
        "error: production needs 2 approval(s) for a normal change, got 1: pass --approved-by NAME "
        "(someone other than you)"
    )
    assert project.image("production") == "hvb:1.7.0"


# -- approvals found on GitHub --------------------------------------------------------------------


def _fake_github(receiver: Receiver, sha: str, reviews: list[dict[str, Any]]) -> None:
    base = f"/repos/{REPO}"
    receiver.route(
        "GET",
        f"{base}/commits/{sha}/check-runs",
        {
            "total_count": 1,
            "check_runs": [
                {"name": "ci", "status": "completed", "conclusion": "success", "html_url": "https://ci.example.test/1"}
            ],
        },
    )
    receiver.route("GET", f"{base}/commits/{sha}/status", {"state": "success", "statuses": []})
    receiver.route(
        "GET",
        f"{base}/commits/{sha}/pulls",
        [
            {
                "number": 7,
                "title": "Fix the booking parser",
                "user": {"login": "dev"},
                "state": "closed",
                "merged_at": "2026-12-18T10:00:00Z",
                "merge_commit_sha": sha,
                "html_url": "https://gh.example.test/pull/7",
            },
        ],
    )
    receiver.route("GET", f"{base}/pulls/7/reviews", reviews)


@pytest.fixture
def on_github(guarded: Project, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Project:
    guarded.configure(
        production={"requires": {"approvals": 1}},
        github={"repo": REPO, "api_url": receiver.url, "token_env": "HVB_GH_TOKEN"},
    )
    guarded.repo.create_tag("v1.8.0")  # the image hvb:1.8.0 was built from HEAD
    monkeypatch.setenv("HVB_GH_TOKEN", GH_TOKEN)
    return guarded


def test_an_approval_on_the_merged_pull_request_is_enough(on_github: Project, receiver: Receiver) -> None:
    sha = on_github.repo.head.commit.hexsha
    _fake_github(
        receiver,
        sha,
        [{"user": {"login": "ann"}, "state": "COMMENTED"}, {"user": {"login": "ann"}, "state": "APPROVED"}],
    )
    confirms = ("--confirm", "security-scan", "--confirm", "performance-tests")

    result = on_github.deploy("production", "hvb:1.8.0", confirms=confirms)

    assert result.exit_code == 0, output(result)
    assert on_github.image("production") == "hvb:1.8.0"
    (approval,) = step_events(on_github.events(on_github.last_run()), "policy.approvals")
    assert (approval["approved_by"], approval["summary"]) == (["ann"], "approved by ann (the merged pull request)")
    asked = {r.path for r in receiver.requests}
    assert f"/repos/{REPO}/pulls/7/reviews" in asked
    assert {r.headers.get("authorization") for r in receiver.requests} == {f"Bearer {GH_TOKEN}"}
    for text in (result.stdout, result.stderr, on_github.audit_text()):
        assert GH_TOKEN not in text


def test_a_pull_request_approved_only_by_its_author_is_no_approval(on_github: Project, receiver: Receiver) -> None:
    sha = on_github.repo.head.commit.hexsha
    _fake_github(receiver, sha, [{"user": {"login": "dev"}, "state": "APPROVED"}])
    # The project's pre-deploy leaves review to the engine: the policy alone must refuse.
    on_github.write("checklists/pre-deploy.yaml", MINIMAL_PRE_DEPLOY)

    result = on_github.deploy("production", "hvb:1.8.0", confirms=())

    assert result.exit_code == 1, output(result)
    assert error_line(result) == NEEDS_APPROVAL
    assert (
        "approvals on GitHub: PR #7 has 0 approval(s), 1 required; approval by dev does not count "
        "(author or deployer)" in result.stdout
    )
    assert on_github.image("production") == "hvb:1.7.0"


def test_an_unset_github_token_is_named(on_github: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HVB_GH_TOKEN")

    result = on_github.deploy("production", "hvb:1.8.0", confirms=CONFIRMS)

    assert result.exit_code == 2, output(result)
    assert error_line(result) == (
        "error: HVB_GH_TOKEN is not set: export a GitHub token with repo:status and pull request read access"
    )
    assert on_github.image("production") == "hvb:1.7.0"
