"""The incident an emergency change answers, as a library caller meets it (the CLI is in tests/e2e/policy)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from opsctl.errors import BadInput
from opsctl.incidents.emergency import NEEDS_INCIDENT, open_for_change, require_open
from opsctl.runs import RunOptions, execute
from opsctl.workspace import Workspace
from tests.incidents.support import ALICE, BOB, Project, make_project

HOW = "--incident new --severity P1 --title TEXT"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(tmp_path)
    return make_project(tmp_path)


def workspace(project: Project) -> Workspace:
    return Workspace.load(str(project.config), actor=ALICE, clock=project.clock)


def refused(call: Callable[..., object], *args: object, **kwargs: object) -> str:
    """The one-line BadInput message of ``call(*args, **kwargs)``."""
    with pytest.raises(BadInput) as raised:
        call(*args, **kwargs)
    return str(raised.value)


@pytest.mark.parametrize("text", [None, "", "   "])
def test_no_incident_points_to_incident_open(project: Project, text: str | None) -> None:
    assert refused(require_open, project.audit_path, text) == NEEDS_INCIDENT
    assert NEEDS_INCIDENT == (
        "a hot-patch needs an incident: pass --incident INC-N (see `opsctl incident list`), "
        "or --incident new --severity P1 --title TEXT"
    )


def test_an_open_or_acknowledged_incident_is_found_in_any_spelling(project: Project) -> None:
    project.ok("incident", "open", "-s", "P1", "-t", "bookings fail", "--env", "production")

    assert require_open(project.audit_path, " inc-001 ").id == "INC-1"
    project.ok("incident", "ack", "INC-1", actor=BOB)
    assert require_open(project.audit_path, "INC-1").status == "acknowledged"


def test_an_id_only_named_by_a_run_is_no_incident(project: Project) -> None:
    # An id from another tracker once given to --incident: opsctl never opened it.
    ws = workspace(project)
    ws.journal("r-external", "rollback", "production", incident="INC-7").event("run", "started", params={})

    assert refused(require_open, project.audit_path, "INC-7") == (
        f"no incident INC-7 in the audit log: a hot-patch needs an open incident (see `opsctl incident list`), or {HOW}"
    )


def test_a_resolved_incident_is_refused_naming_who_resolved_it_and_when(project: Project) -> None:
    project.ok("incident", "open", "-s", "P2", "-t", "slow", "--env", "production")
    project.clock.at(20)
    project.ok("incident", "resolve", "INC-1", "--cause", "cache", actor=BOB)

    assert refused(require_open, project.audit_path, "INC-1") == (
        f"INC-1 is resolved (by {BOB} at 2026-11-27 10:20Z): a hot-patch needs an open incident "
        f"(see `opsctl incident list --open`), or {HOW}"
    )


def test_open_for_change_opens_through_the_lifecycle(project: Project) -> None:
    ws = workspace(project)

    change = open_for_change(ws, "New", severity="p1", title=" guests  cannot book ", env="production")

    assert change is not None
    assert (change.action, change.incident.id, change.incident.severity.value) == ("opened", "INC-1", "P1")
    assert (change.incident.title, change.incident.env, change.incident.opened_by) == (
        "guests cannot book",
        "production",
        ALICE,
    )
    (opened,) = project.events()
    assert (opened["status"], opened["incident"], opened["respond_within"]) == ("opened", "INC-1", "15 minutes")


def test_open_for_change_leaves_an_id_to_the_run(project: Project) -> None:
    assert open_for_change(workspace(project), "INC-42", severity=None, title=None, env="production") is None
    assert open_for_change(workspace(project), None, severity=None, title=None, env="production") is None
    assert project.events(None) == []


def test_open_for_change_in_an_unknown_environment_opens_nothing(project: Project) -> None:
    message = refused(open_for_change, workspace(project), "new", severity="P1", title="x", env="prod")

    assert message.startswith("unknown environment 'prod' (defined in ")
    assert project.events(None) == []


def test_a_library_caller_cannot_hotpatch_for_an_unknown_incident(project: Project) -> None:
    message = refused(
        execute, workspace(project), "hot-patch", "staging", {"image": "hvb:1.8.1", "incident": "INC-3"}, RunOptions()
    )

    assert message == (
        f"no incident INC-3 in the audit log: a hot-patch needs an open incident (see `opsctl incident list`), or {HOW}"
    )
    assert project.events(None) == []
