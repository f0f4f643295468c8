"""The promotion gate: production takes only images that passed verification on staging (per the audit log)."""

from __future__ import annotations

import pytest

from tests.e2e.policy.support import (
    APPROVER,
    CONFIRMS,
    MINIMAL_PRE_DEPLOY,
    Project,
    error_line,
    output,
    step_events,
)

NOT_PROMOTED = (
    "hvb:1.8.0 is not promoted from staging: staging never verified it; "
    "run `opsctl deploy staging --image hvb:1.8.0` first"
)


@pytest.fixture
def promoted(project: Project) -> Project:
    project.configure(production={"requires": {"promoted_from": "staging"}})
    return project


def test_an_image_staging_never_saw_is_refused_before_the_gates_and_by_the_gate_itself(promoted: Project) -> None:
    result = promoted.deploy("production", "hvb:1.8.0")

    # The promotion policy runs before any gate (issue 13): nobody answers a prompt to learn it.
    assert result.exit_code == 1, output(result)
    assert error_line(result) == f"error: {NOT_PROMOTED}"
    assert promoted.image("production") == "hvb:1.7.0"
    run = promoted.last_run()
    assert step_events(promoted.events(run), "pre-deploy") == []
    assert (promoted.run_end(run)["status"], promoted.run_end(run)["summary"]) == ("error", NOT_PROMOTED)

    # The pre-deploy gate, run on its own, refuses the image as well.
    gate_run = promoted.invoke(
        "checklist", "run", "pre-deploy", "--env", "production", *CONFIRMS, "--set", "image=hvb:1.8.0"
    )
    assert gate_run.exit_code == 1, output(gate_run)
    events = promoted.events(promoted.last_run())
    (gate,) = [e for e in step_events(events, "pre-deploy/migrations") if e["status"] != "started"]
    assert (gate["status"], gate["summary"]) == (
        "failed",
        "hvb:1.8.0 was never deployed to staging; deploy and verify it there first",
    )


def test_the_engine_refuses_an_image_staging_never_verified_whatever_the_checklist(promoted: Project) -> None:
    promoted.write("checklists/pre-deploy.yaml", MINIMAL_PRE_DEPLOY)

    result = promoted.deploy("production", "hvb:1.8.0", confirms=())

    assert result.exit_code == 1, output(result)
    assert error_line(result) == (
        "error: hvb:1.8.0 is not promoted from staging: staging never verified it; "
        "run `opsctl deploy staging --image hvb:1.8.0` first"
    )
    assert promoted.image("production") == "hvb:1.7.0"


def test_the_refusal_names_the_last_staging_result_for_the_image(promoted: Project) -> None:
    staged = promoted.deploy("staging", "hvb:1.9.0-bad")
    assert staged.exit_code == 1, output(staged)
    staging_run = promoted.last_run()
    staging_end = promoted.run_end(staging_run)
    assert staging_end["status"] == "rolled_back"
    promoted.write("checklists/pre-deploy.yaml", MINIMAL_PRE_DEPLOY)

    result = promoted.deploy("production", "hvb:1.9.0-bad", confirms=())

    assert result.exit_code == 1, output(result)
    assert error_line(result) == (
        f"error: hvb:1.9.0-bad is not promoted from staging: its last staging run {staging_run} ended "
        f"'rolled_back' ({staging_end['ts']}); deploy and verify it on staging first"
    )
    assert promoted.image("production") == "hvb:1.7.0"


def test_an_image_verified_on_staging_goes_to_production(promoted: Project) -> None:
    promoted.configure(production={"requires": {"promoted_from": "staging", "approvals": 1}})
    assert promoted.deploy("staging", "hvb:1.8.0").exit_code == 0
    staging_run = promoted.last_run()

    result = promoted.deploy("production", "hvb:1.8.0", "--approved-by", APPROVER)

    assert result.exit_code == 0, output(result)
    assert promoted.image("production") == "hvb:1.8.0"
    events = promoted.events(promoted.last_run())
    (promotion,) = step_events(events, "policy.promotion")
    assert promotion["summary"] == (
        f"hvb:1.8.0 was verified on staging (run {staging_run}, {promoted.run_end(staging_run)['ts']})"
    )
    (gate,) = [e for e in step_events(events, "pre-deploy/migrations") if e["status"] != "started"]
    finished = promoted.run_end(staging_run)["ts"]
    assert gate["summary"] == f"hvb:1.8.0 was verified on staging by run {staging_run} ({finished})"


def test_the_promotion_record_names_the_verified_run_not_a_later_dry_run(promoted: Project) -> None:
    assert promoted.deploy("staging", "hvb:1.8.0").exit_code == 0
    verified_run = promoted.last_run()
    assert promoted.deploy("staging", "hvb:1.8.0", "--dry-run").exit_code == 0
    dry_run = promoted.last_run()
    assert dry_run != verified_run

    result = promoted.deploy("production", "hvb:1.8.0")

    assert result.exit_code == 0, output(result)
    (promotion,) = step_events(promoted.events(promoted.last_run()), "policy.promotion")
    # The audit record must point at the run that verified the image; a dry run verified nothing.
    assert promotion["summary"] == (
        f"hvb:1.8.0 was verified on staging (run {verified_run}, {promoted.run_end(verified_run)['ts']})"
    )
