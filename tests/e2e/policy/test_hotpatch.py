"""``opsctl hotpatch``: an emergency change tied to an incident, recorded as such on every event of its run."""

from __future__ import annotations

import json

import pytest

from tests.e2e.policy.support import ACTOR, OUTSIDE_FREEZE, Project, error_line, output, step_events
from tests.support.incidents import record_open_incident

NO_INCIDENT = (
    "error: a hot-patch needs an incident: pass --incident INC-N (see `opsctl incident list`), "
    "or --incident new --severity P1 --title TEXT"
)


@pytest.mark.parametrize("incident", [None, "   "], ids=["missing", "blank"])
def test_hotpatch_without_an_incident_exits_2_and_says_why(project: Project, incident: str | None) -> None:
    extra = () if incident is None else ("--incident", incident)

    result = project.hotpatch("production", "hvb:1.8.1", *extra)

    assert result.exit_code == 2, output(result)
    assert error_line(result) == NO_INCIDENT
    assert project.events() == []  # refused before any run began
    assert project.image("production") == "hvb:1.7.0"


def test_hotpatch_is_an_emergency_change_with_its_incident_on_every_event(project: Project) -> None:
    # Approvals and promotion hold for normal changes only: the emergency change needs neither.
    project.configure(production={"requires": {"approvals": 1, "promoted_from": "staging"}})
    record_open_incident(project.config_path, "INC-42", env="production")

    result = project.hotpatch("production", "hvb:1.8.1", "--incident", "INC-42", "--reason", "fix booking crash")

    assert result.exit_code == 0, output(result)
    assert project.image("production") == "hvb:1.8.1"
    run = project.last_run()
    events = project.events(run)
    assert {e["runbook"] for e in events} == {"hot-patch"}
    assert [
        (e["step"], e["change_type"], e["incident"])
        for e in events
        if (e.get("change_type"), e.get("incident")) != ("emergency", "INC-42")
    ] == []
    (record,) = [e for e in step_events(events, "gates/change-record") if e["status"] != "started"]
    assert record["status"] == "passed"
    assert record["summary"] == "recorded: emergency change, incident INC-42, reason: fix booking crash"
    end = project.run_end(run)
    assert (end["status"], end["verified"], end["release_after"]["image"]) == ("succeeded", True, "hvb:1.8.1")
    assert step_events(events, "policy.approvals") == []
    assert step_events(events, "policy.promotion") == []


def test_a_failed_hotpatch_rolls_back_and_every_event_stays_emergency_with_the_incident(project: Project) -> None:
    record_open_incident(project.config_path, "INC-7", env="production")

    result = project.hotpatch("production", "hvb:1.8.1-bad", "--incident", "INC-7")

    assert result.exit_code == 1, output(result)
    assert project.image("production") == "hvb:1.7.0"
    run = project.last_run()
    events = project.events(run)
    assert project.run_end(run)["status"] == "rolled_back"
    assert any(e["runbook"] == "rollback" for e in events)  # the automatic rollback is part of this run
    assert [(e["runbook"], e["step"]) for e in events if e.get("incident") != "INC-7"] == []
    # The issue: change type emergency with the incident id on *every* audit event of the run.
    assert [(e["runbook"], e["step"], e["change_type"]) for e in events if e.get("change_type") != "emergency"] == []


def test_a_skipped_performance_test_is_recorded_with_the_persons_reason(project: Project) -> None:
    # In a terminal: CI confirmed (y), performance testing skipped (s) with a reason.
    record_open_incident(project.config_path, "INC-42", env="production")
    result = project.hotpatch(
        "production",
        "hvb:1.8.1",
        "--incident",
        "INC-42",
        confirms=(),
        interactive=True,
        input="y\ns\nno time: guests cannot book\n",
    )

    assert result.exit_code == 0, output(result)
    events = project.events(project.last_run())
    (skipped,) = [e for e in step_events(events, "gates/performance-tests") if e["status"] != "started"]
    assert skipped["status"] == "skipped"
    assert skipped["summary"] == f"skipped by {ACTOR}: no time: guests cannot book"
    assert skipped["detail"] == {"skipped_by": ACTOR, "reason": "no time: guests cannot book"}
    (ci,) = [e for e in step_events(events, "gates/tests-confirmed") if e["status"] != "started"]
    assert (ci["status"], ci["summary"]) == ("passed", f"confirmed by {ACTOR}")


def test_without_a_terminal_an_unconfirmed_performance_test_fails_without_blocking(project: Project) -> None:
    confirms = ("--confirm", "tests-confirmed")  # CI confirmed; nobody vouched for performance testing
    record_open_incident(project.config_path, "INC-42", env="production")

    result = project.hotpatch("production", "hvb:1.8.1", "--incident", "INC-42", confirms=confirms)

    assert result.exit_code == 0, output(result)
    assert project.image("production") == "hvb:1.8.1"
    events = project.events(project.last_run())
    (perf,) = [e for e in step_events(events, "gates/performance-tests") if e["status"] != "started"]
    assert (perf["status"], perf["blocking"]) == ("failed", False)
    assert perf["summary"] == (
        "needs a person to confirm: run in a terminal, or pass --confirm performance-tests once it is done"
    )
    (gates,) = [e for e in step_events(events, "gates") if e.get("kind") == "step" and e["status"] != "started"]
    assert gates["status"] == "warned"


# --- the incident must be real: open, opened with opsctl, or opened for the change ----------------------------

NEED_OPEN = "a hot-patch needs an open incident"
HOW = "--incident new --severity P1 --title TEXT"


def run_events(project: Project) -> list[dict[str, object]]:
    return [e for e in project.events() if e["step"] == "run"]


@pytest.mark.parametrize(
    ("incident", "message"),
    [
        ("INC-99", f"no incident INC-99 in the audit log: {NEED_OPEN} (see `opsctl incident list`), or {HOW}"),
        ("BUG-1", "not an incident id: 'BUG-1' (expected INC-<number>, e.g. INC-42)"),
    ],
    ids=["unknown", "not-an-id"],
)
def test_an_incident_opsctl_never_opened_exits_2_naming_it(project: Project, incident: str, message: str) -> None:
    record_open_incident(project.config_path, "INC-42", env="production")

    result = project.hotpatch("production", "hvb:1.8.1", "--incident", incident)

    assert result.exit_code == 2, output(result)
    assert error_line(result) == f"error: {message}"
    assert run_events(project) == []
    assert project.image("production") == "hvb:1.7.0"


def test_a_resolved_incident_exits_2_naming_it(project: Project) -> None:
    opened = project.invoke(
        "incident", "open", "-s", "P2", "-t", "slow replies", "--env", "production", clock=OUTSIDE_FREEZE
    )
    assert opened.exit_code == 0, output(opened)
    resolved = project.invoke("incident", "resolve", "INC-1", "--cause", "cache warmed up", clock=OUTSIDE_FREEZE)
    assert resolved.exit_code == 0, output(resolved)

    result = project.hotpatch("production", "hvb:1.8.1", "--incident", "INC-1")

    assert result.exit_code == 2, output(result)
    assert error_line(result) == (
        f"error: INC-1 is resolved (by {ACTOR} at 2026-12-20 12:00Z): {NEED_OPEN} "
        f"(see `opsctl incident list --open`), or {HOW}"
    )
    assert run_events(project) == []
    assert project.image("production") == "hvb:1.7.0"


def test_an_acknowledged_incident_in_any_spelling_is_journaled_by_its_id(project: Project) -> None:
    record_open_incident(project.config_path, "INC-42", env="production")
    acked = project.invoke("incident", "ack", "INC-42")
    assert acked.exit_code == 0, output(acked)

    result = project.hotpatch("production", "hvb:1.8.1", "--incident", "inc-042")

    assert result.exit_code == 0, output(result)
    events = project.events(project.last_run())
    assert {e["incident"] for e in events} == {"INC-42"}
    (started,) = [e for e in events if e["step"] == "run" and e["status"] == "started"]
    assert started["params"]["incident"] == "INC-42"


def test_incident_new_opens_one_like_incident_open_and_the_hotpatch_answers_it(project: Project) -> None:
    result = project.hotpatch(
        "production", "hvb:1.8.1", "--incident", "new", "--severity", "P1", "--title", "guests  cannot book"
    )

    assert result.exit_code == 0, output(result)
    assert "INC-1 · P1 (high) · open · production · guests cannot book" in result.stdout
    assert project.image("production") == "hvb:1.8.1"
    (opened,) = [e for e in project.events() if e["step"] == "incident"]
    assert (opened["runbook"], opened["status"], opened["incident"], opened["severity"], opened["title"]) == (
        "incident",
        "opened",
        "INC-1",
        "P1",
        "guests cannot book",
    )
    run = project.last_run()
    assert {e["incident"] for e in project.events(run)} == {"INC-1"}
    shown = project.invoke("--json", "incident", "show", "INC-1")
    assert shown.exit_code == 0, output(shown)
    assert json.loads(shown.stdout)["runs"] == [run]


def test_incident_new_with_json_is_one_more_line_of_the_run_stream(project: Project) -> None:
    result = project.hotpatch(
        "production", "hvb:1.8.1", "--incident", "new", "--severity", "P2", "--title", "slow", "--json"
    )

    assert result.exit_code == 0, output(result)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert (lines[0]["event"], lines[0]["action"], lines[0]["incident"]["id"]) == ("incident.opened", "opened", "INC-1")
    assert (lines[-1]["event"], lines[-1]["status"]) == ("run.finished", "succeeded")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ("--incident", "new", "--severity", "P1"),
            f"--incident new opens an incident and needs --severity and --title: {HOW}",
        ),
        (
            ("--incident", "new", "--title", "x"),
            f"--incident new opens an incident and needs --severity and --title: {HOW}",
        ),
        (("--incident", "new", "--severity", "P9", "--title", "x"), "unknown severity 'P9' (use P0, P1, P2 or P3)"),
        (
            ("--incident", "INC-42", "--severity", "P1"),
            f"--severity and --title open a new incident: pass them with {HOW}",
        ),
        (
            ("--incident", "new", "--severity", "P1", "--title", "x", "--dry-run"),
            "--incident new opens a real incident (and pages), which a dry run must not do: "
            "open it first with `opsctl incident open`, then pass --incident INC-N",
        ),
    ],
    ids=["no-title", "no-severity", "bad-severity", "severity-with-an-id", "dry-run"],
)
def test_incident_new_refusals_record_nothing(project: Project, extra: tuple[str, ...], message: str) -> None:
    result = project.hotpatch("production", "hvb:1.8.1", *extra)

    assert result.exit_code == 2, output(result)
    assert error_line(result) == f"error: {message}"
    assert project.events() == []
    assert project.image("production") == "hvb:1.7.0"
