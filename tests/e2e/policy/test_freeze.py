"""Freeze windows: normal changes are refused inside one, emergency changes pass with their incident."""

from __future__ import annotations

import pytest

from tests.e2e.policy.support import (
    HOLIDAY,
    HOLIDAY_SPAN,
    IN_FREEZE,
    OUTSIDE_FREEZE,
    Project,
    error_line,
    output,
    step_events,
)
from tests.support.incidents import record_open_incident

FROZEN = (
    f"error: production is frozen: 'holiday freeze' ({HOLIDAY_SPAN}); only emergency changes "
    "(opsctl hotpatch --incident ID) may go in"
)


@pytest.fixture
def frozen(project: Project) -> Project:
    project.configure(production={"freeze": [HOLIDAY]})
    return project


def test_a_normal_change_inside_the_window_is_refused_naming_it(frozen: Project) -> None:
    result = frozen.deploy("production", "hvb:1.8.0", clock=IN_FREEZE)

    assert result.exit_code == 1, output(result)
    assert error_line(result) == FROZEN
    assert frozen.image("production") == "hvb:1.7.0"
    run = frozen.last_run()
    assert step_events(frozen.events(run), "deploy") == []  # refused before the rollout step
    end = frozen.run_end(run)
    assert (end["status"], end["summary"]) == ("error", FROZEN.removeprefix("error: "))


def test_outside_the_window_the_same_change_goes_in_and_a_rollback_may_go_in_during_it(frozen: Project) -> None:
    done = frozen.deploy("production", "hvb:1.8.0", clock=OUTSIDE_FREEZE)
    assert done.exit_code == 0, output(done)
    assert frozen.image("production") == "hvb:1.8.0"

    # A rollback is a standard change: on-call must be able to undo a bad release during a freeze.
    # (--to: only the running release was ever verified, and a rollback no longer picks an unverified one.)
    back = frozen.invoke("rollback", "production", "--to", "hvb:1.7.0", "--yes", "--timeout", "20s", clock=IN_FREEZE)

    assert back.exit_code == 0, output(back)
    assert frozen.image("production") == "hvb:1.7.0"
    assert step_events(frozen.events(frozen.last_run()), "policy.freeze") == []


def test_a_hotpatch_inside_the_window_passes_and_says_so(frozen: Project) -> None:
    record_open_incident(frozen.config_path, "INC-42", env="production")  # a hot-patch needs an open incident
    result = frozen.hotpatch("production", "hvb:1.8.1", "--incident", "INC-42", clock=IN_FREEZE)

    assert result.exit_code == 0, output(result)
    assert frozen.image("production") == "hvb:1.8.1"
    assert "freeze window 'holiday freeze' is active: allowed as an emergency change for INC-42" in result.stdout
    (warned,) = step_events(frozen.events(frozen.last_run()), "policy.freeze")
    assert warned["status"] == "warned"
    assert warned["summary"] == (
        f"inside freeze window 'holiday freeze' ({HOLIDAY_SPAN}); allowed as an emergency change for INC-42"
    )
    assert (warned["change_type"], warned["incident"]) == ("emergency", "INC-42")


def test_a_dry_run_inside_the_window_reports_the_freeze(frozen: Project) -> None:
    # --dry-run promises "every read and gate"; the freeze is a gate that only reads the clock.
    result = frozen.deploy("production", "hvb:1.8.0", "--dry-run", clock=IN_FREEZE)

    assert result.exit_code == 1, output(result)
    assert error_line(result) == FROZEN


def test_an_emergency_runbook_without_an_incident_does_not_pass_the_freeze(frozen: Project) -> None:
    # A project runbook may call itself an emergency; the engine still wants the incident it answers.
    from opsctl.engine.loader import load_runbook

    builtin = load_runbook("deploy", frozen.path).source.path.read_text()
    frozen.write("runbooks/deploy.yaml", builtin.replace("change_type: normal", "change_type: emergency"))

    result = frozen.deploy("production", "hvb:1.8.0", clock=IN_FREEZE)

    assert result.exit_code == 1, output(result)
    assert error_line(result) == FROZEN
    assert frozen.image("production") == "hvb:1.7.0"


@pytest.mark.parametrize(
    ("window", "problem"),
    [
        ({"from": "2026-12-27T00:00:00Z", "to": "2026-12-24T00:00:00Z"}, "'to' must be after 'from'"),
        (
            {"from": "2026-12-24T00:00:00", "to": "2026-12-27T00:00:00"},
            "give times with a zone, like 2026-12-24T00:00:00Z",
        ),
    ],
    ids=["to-before-from", "no-zone"],
)
def test_a_bad_window_is_a_config_error_naming_file_and_line(
    project: Project, window: dict[str, str], problem: str
) -> None:
    project.configure(production={"freeze": [window]})
    line = next(i for i, text in enumerate(project.config_path.read_text().splitlines(), 1) if "freeze:" in text)

    result = project.deploy("production", "hvb:1.8.0")

    assert result.exit_code == 2, output(result)
    assert error_line(result) == (
        f"error: opsctl.yaml:{line + 1}: environments -> production -> freeze -> 0: {problem}"
    )
    assert project.events() == []
