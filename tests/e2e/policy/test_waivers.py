"""Gates nobody skips alone: a skipped blocking item fails; a waiver, approved by someone else, lets it through."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.policy.support import (
    ACTOR,
    APPROVER,
    Project,
    Receiver,
    error_line,
    output,
    step_events,
)

FOUR = ("tests-confirmed", "code-review-confirmed", "security-scan", "performance-tests")
SKIPPED = (
    f"skipped by {ACTOR}: no time; a blocking item needs a waiver to go ahead: "
    "--waive {item} --reason TEXT --approved-by NAME"
)
# The two CI-side items confirmed; the scan and the performance tests waived.
CI_CONFIRMED = ("--confirm", "tests-confirmed", "--confirm", "code-review-confirmed")
WAIVE = ("--waive", "security-scan", "--waive", "performance-tests", "--reason", "scanner down, INC-7")
WAIVED = f"waived by {ACTOR}, approved by {APPROVER}: scanner down, INC-7"
# A project's pre-deploy: one blocking and one non-blocking manual item.
TWO_MANUAL = """\
title: Pre-deployment checklist
items:
  - {id: security-scan, title: Security scan completed, uses: manual}
  - {id: performance-tests, title: Performance testing completed, uses: manual, blocking: false}
"""
DEPLOY_ITEMS = "tests-confirmed, code-review-confirmed, security-scan, performance-tests"


def finished(events: list[dict[str, Any]], step: str) -> dict[str, Any]:
    """An item's outcome event, or a checklist step's (the runner's, not the checklist's own verdict)."""
    ended = [e for e in step_events(events, step) if e["status"] != "started"]
    (event,) = [e for e in ended if e.get("kind") == "step"] if len(ended) > 1 else ended
    return event


def test_skipping_the_four_blocking_manual_items_in_a_terminal_fails_the_gate(project: Project) -> None:
    """The reproduction of issue 13, item 2: four `s` answers used to pass "with warnings", exit 0."""
    result = project.deploy("staging", "hvb:1.8.0", confirms=(), interactive=True, input="s\nno time\n" * 4)

    assert result.exit_code == 1, output(result)
    assert project.image("staging") == "hvb:1.7.0"
    run = project.last_run()
    events = project.events(run)
    for item in FOUR:
        event = finished(events, f"pre-deploy/{item}")
        assert (event["status"], event["summary"]) == ("failed", SKIPPED.format(item=item))
        assert (event["detail"]["skipped_by"], event["detail"]["reason"]) == (ACTOR, "no time")
    end = project.run_end(run)
    assert (end["status"], end["summary"]) == (
        "failed",
        f"step pre-deploy failed: Pre-deployment checklist: failed ({DEPLOY_ITEMS})",
    )
    assert step_events(events, "deploy") == []


def test_a_non_blocking_item_may_still_be_skipped_and_is_counted_apart(project: Project) -> None:
    project.write("checklists/pre-deploy.yaml", TWO_MANUAL)

    result = project.deploy(
        "staging",
        "hvb:1.8.0",
        confirms=("--confirm", "security-scan"),
        interactive=True,
        input="s\nload env down\n",
    )

    assert result.exit_code == 0, output(result)
    assert project.image("staging") == "hvb:1.8.0"
    events = project.events(project.last_run())
    skipped = finished(events, "pre-deploy/performance-tests")
    assert (skipped["status"], skipped["summary"]) == ("skipped", f"skipped by {ACTOR}: load env down")
    step = finished(events, "pre-deploy")
    assert (step["status"], step["summary"]) == (
        "passed",
        "Pre-deployment checklist: passed (1 passed, 1 skipped (non-blocking))",
    )


@pytest.mark.parametrize("approver", [ACTOR, "Dev@Example.com"], ids=["same", "same-other-case"])
def test_a_waiver_approved_by_the_person_running_it_is_bad_input(project: Project, approver: str) -> None:
    result = project.deploy("staging", "hvb:1.8.0", *WAIVE, "--approved-by", approver, confirms=CI_CONFIRMED)

    assert result.exit_code == 2, output(result)
    assert error_line(result) == (
        f"error: --approved-by {approver}: a waiver needs someone other than the person running it ({ACTOR})"
    )
    assert project.image("staging") == "hvb:1.7.0"
    events = project.events(project.last_run())
    assert [e["step"] for e in events if e["step"].startswith("pre-deploy")] == []  # refused before any gate


@pytest.mark.parametrize(
    ("extra", "missing"),
    [
        (("--waive", "security-scan", "--approved-by", APPROVER), "--reason TEXT"),
        (("--waive", "security-scan", "--reason", "scanner down"), "--approved-by NAME"),
    ],
    ids=["no-reason", "no-approver"],
)
def test_a_waiver_needs_a_reason_and_an_approver(project: Project, extra: tuple[str, ...], missing: str) -> None:
    result = project.deploy("staging", "hvb:1.8.0", *extra, confirms=CI_CONFIRMED)

    assert result.exit_code == 2, output(result)
    assert error_line(result) == (
        f"error: --waive security-scan needs {missing}: a waiver records why the gate may be passed "
        "without being done, and who (other than you) agreed"
    )
    assert project.audit_text() == ""  # refused before any run began


def test_a_valid_waiver_goes_ahead_and_is_recorded_and_reported(project: Project) -> None:
    result = project.deploy("staging", "hvb:1.8.0", *WAIVE, "--approved-by", APPROVER, confirms=CI_CONFIRMED)

    assert result.exit_code == 0, output(result)
    assert project.image("staging") == "hvb:1.8.0"
    run = project.last_run()
    events = project.events(run)
    (policy,) = step_events(events, "policy.waivers")
    assert (policy["status"], policy["summary"]) == (
        "passed",
        f"security-scan, performance-tests waived by {ACTOR}, approved by {APPROVER} (--approved-by)",
    )
    assert policy["waivers"] == [
        {"item": "security-scan", "reason": "scanner down, INC-7", "approved_by": [APPROVER]},
        {"item": "performance-tests", "reason": "scanner down, INC-7", "approved_by": [APPROVER]},
    ]
    for item in ("security-scan", "performance-tests"):
        event = finished(events, f"pre-deploy/{item}")
        assert (event["status"], event["summary"]) == ("waived", WAIVED)
        assert event["detail"] == {"waived_by": ACTOR, "approved_by": [APPROVER], "reason": "scanner down, INC-7"}
    step = finished(events, "pre-deploy")
    assert (step["status"], step["summary"]) == (
        "warned",
        "Pre-deployment checklist: warned (3 passed, 1 warned, 1 skipped, 2 waived, 7 not applicable)",
    )
    assert step["detail"]["counts"] == {
        "passed": 3,
        "failed": 0,
        "warned": 1,
        "skipped": 1,
        "waived": 2,
        "not_applicable": 7,
    }

    report = project.invoke("--json", "report", "--since", "30d")
    assert report.exit_code == 0, output(report)
    data = json.loads(report.stdout)
    staging = next(e for e in data["environments"] if e["env"] == "staging")
    assert staging["waivers"] == 2
    assert [
        (w["item"], w["run"], w["runbook"], w["actor"], w["approved_by"], w["reason"]) for w in staging["waived"]
    ] == [
        ("security-scan", run, "deploy", ACTOR, [APPROVER], "scanner down, INC-7"),
        ("performance-tests", run, "deploy", ACTOR, [APPROVER], "scanner down, INC-7"),
    ]
    production = next(e for e in data["environments"] if e["env"] == "production")
    assert (production["waivers"], data["total"]["waivers"]) == (0, 2)

    table = project.invoke("report", "--since", "30d")
    assert table.exit_code == 0, output(table)
    assert "gates waived: 2 (staging 2)" in table.stdout
    assert (
        f"staging {run} security-scan: waived by {ACTOR}, approved by {APPROVER}: scanner down, INC-7" in table.stdout
    )


def test_a_waiver_in_a_dry_run_is_recorded_but_not_reported(project: Project) -> None:
    result = project.deploy(
        "staging", "hvb:1.8.0", "--dry-run", *WAIVE, "--approved-by", APPROVER, confirms=CI_CONFIRMED
    )

    assert result.exit_code == 0, output(result)
    event = finished(project.events(project.last_run()), "pre-deploy/security-scan")
    assert (event["status"], event["summary"]) == ("waived", WAIVED)
    data = json.loads(project.invoke("--json", "report", "--since", "30d").stdout)
    assert data["total"]["waivers"] == 0


def test_checklist_run_takes_waivers_too(project: Project) -> None:
    result = project.invoke(
        "checklist", "run", "pre-deploy", "--env", "staging", *CI_CONFIRMED, *WAIVE, "--approved-by", APPROVER
    )

    assert result.exit_code == 0, output(result)
    assert f"WAIVED  security-scan  {WAIVED} (" in result.stdout
    assert "N/A  tests  does not apply (when: github is not none)\n" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "Pre-deployment checklist: passed with warnings (3 passed, 1 warned, 1 skipped, 2 waived, 7 not applicable)"
    )
    (policy,) = step_events(project.events(project.last_run()), "policy.waivers")
    assert policy["status"] == "passed"


# -- unknown ids and a missing environment: exit 2 before anything runs --------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("deploy", "staging", "--image", "hvb:1.8.0", "--confirm", "secrity-scan"),
            f"unknown manual item 'secrity-scan' for --confirm; the deploy runbook's manual items are: {DEPLOY_ITEMS}",
        ),
        (
            (
                "deploy",
                "staging",
                "--image",
                "hvb:1.8.0",
                "--waive",
                "migrations",
                "--reason",
                "r",
                "--approved-by",
                APPROVER,
            ),
            f"unknown manual item 'migrations' for --waive; the deploy runbook's manual items are: {DEPLOY_ITEMS}",
        ),
        (
            ("rollback", "staging", "--confirm", "security-scan"),
            "unknown manual item 'security-scan' for --confirm; the rollback runbook has no manual items",
        ),
        (
            ("checklist", "run", "pre-deploy", "--env", "staging", "--confirm", "perf-tests"),
            "unknown manual item 'perf-tests' for --confirm; the pre-deploy checklist's manual items are: "
            + DEPLOY_ITEMS,
        ),
    ],
    ids=["deploy-confirm", "deploy-waive-automatic-item", "rollback", "checklist-run"],
)
def test_an_unknown_manual_item_id_lists_the_real_ones(project: Project, args: tuple[str, ...], message: str) -> None:
    result = project.invoke(*args)

    assert result.exit_code == 2, output(result)
    assert error_line(result) == f"error: {message}"
    assert project.audit_text() == ""  # nothing journaled, nothing locked


@pytest.mark.parametrize("name", ["post-deploy", "pre-deploy", "hot-patch-gates", "rollback-verify"])
def test_checklist_run_without_env_names_env(project: Project, name: str) -> None:
    result = project.invoke("checklist", "run", name)

    assert result.exit_code == 2, output(result)
    assert error_line(result) == f"error: checklist '{name}' needs an environment: pass --env ENV"
    assert project.audit_text() == ""


# -- with github: configured, the approver must have approved the pull request -----------------------------------

GH_TOKEN = "gh-waiver-token-0123456789abcdef"
REPO = "acme/hvb"


@pytest.fixture
def on_github(project: Project, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The PR behind HEAD (#7, by dev) approved by ann; the project's pre-deploy holds two manual items."""
    project.configure(github={"repo": REPO, "api_url": receiver.url, "token_env": "HVB_GH_TOKEN"})
    project.write("checklists/pre-deploy.yaml", TWO_MANUAL)
    sha = project.repo.head.commit.hexsha
    pull = {
        "number": 7,
        "title": "Fix the booking parser",
        "user": {"login": "dev"},
        "state": "closed",
        "merged_at": "2026-12-18T10:00:00Z",
        "merge_commit_sha": sha,
        "html_url": "https://gh.example.test/pull/7",
    }
    receiver.route("GET", f"/repos/{REPO}/commits/{sha}/pulls", [pull])
    receiver.route("GET", f"/repos/{REPO}/pulls/7/reviews", [{"user": {"login": "ann"}, "state": "APPROVED"}])
    monkeypatch.setenv("HVB_GH_TOKEN", GH_TOKEN)
    return project


def test_on_github_a_waiver_approved_on_the_pull_request_goes_ahead(on_github: Project) -> None:
    result = on_github.deploy(
        "staging",
        "hvb:1.8.0",
        "--waive",
        "security-scan",
        "--reason",
        "scanner down",
        "--approved-by",
        "ann",
        confirms=(),
    )

    assert result.exit_code == 0, output(result)
    events = on_github.events(on_github.last_run())
    (policy,) = step_events(events, "policy.waivers")
    assert policy["summary"] == (
        f"security-scan waived by {ACTOR}, approved by ann (--approved-by, approved on the pull request)"
    )
    assert finished(events, "pre-deploy/security-scan")["status"] == "waived"
    assert GH_TOKEN not in on_github.audit_text() + result.stdout + result.stderr


def test_on_github_a_waiver_approver_who_did_not_approve_the_pull_request_is_refused(on_github: Project) -> None:
    result = on_github.deploy(
        "staging",
        "hvb:1.8.0",
        "--waive",
        "security-scan",
        "--reason",
        "scanner down",
        "--approved-by",
        APPROVER,
        confirms=(),
    )

    assert result.exit_code == 1, output(result)
    assert error_line(result) == (
        f"error: --approved-by {APPROVER}: a waiver's approver must have approved the change's pull request "
        "on GitHub, and has not (PR #7 approved by ann (1 of 1 required))"
    )
    assert on_github.image("staging") == "hvb:1.7.0"
    assert step_events(on_github.events(on_github.last_run()), "pre-deploy") == []
