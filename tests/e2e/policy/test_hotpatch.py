"""``opsctl hotpatch``: an emergency change tied to an incident, recorded as such on every event of its run."""

from __future__ import annotations

import pytest

from tests.e2e.policy.support import ACTOR, Project, error_line, output, step_events

NO_INCIDENT = (
    "error: hotpatch needs --incident ID: emergency changes must be tied to an incident "
    "(open one with your incident process, e.g. INC-42)"
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
