"""An incident's suspects: changes shortly before it opened, never a dry run (it changed nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.workspace import Workspace
from tests.incidents.runs import Run, passed, record, release
from tests.incidents.support import ALICE, BOB, Project, make_project

REAL = "r20261127-093000-aaaaaa"
DRY = "r20261127-094500-cccccc"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A real deploy of hvb:1.9.0, then a dry run of hvb:1.9.1, then a P1 in production."""
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path)
    ws = Workspace.load(str(project.config), actor=BOB, clock=project.clock)
    deploy = Run(
        REAL,
        "deploy",
        "production",
        {"image": "hvb:1.9.0"},
        "hvb:1.8.0",
        "hvb:1.9.0",
        summary="deploy succeeded: hvb-release-1.9.0 (hvb:1.9.0) verified",
        checklists=(passed("post-deploy", "post-deploy"),),
    )
    record(ws, project.clock, deploy, -30, -22)
    # A dry run journals like any run, with `dry_run: true` on its start and nothing verified at its end.
    journal = ws.journal(DRY, "deploy", "production", change_type="normal")
    project.clock.at(-15)
    journal.event("run", "started", params={"image": "hvb:1.9.1"}, digest="0" * 64, dry_run=True)
    project.clock.at(-14)
    journal.event(
        "run",
        "succeeded",
        summary="dry run: every read and gate passed; nothing was changed",
        release_before=release("hvb:1.9.0"),
        release_after=release("hvb:1.9.0"),
        verified=False,
    )
    project.clock.at(0)
    project.ok("incident", "open", "-s", "P1", "-t", "Booking calls fail", "--env", "production", actor=ALICE)
    return project


def test_a_dry_run_is_never_a_suspect(project: Project) -> None:
    shown = project.ok("--json", "incident", "show", "INC-1").json()

    assert [(c["run"], c["linked"], c["image_after"]) for c in shown["changes"]] == [(REAL, False, "hvb:1.9.0")]


def test_the_post_mortem_lists_no_dry_run_either(project: Project, tmp_path: Path) -> None:
    project.clock.at(30)
    project.ok("incident", "resolve", "INC-1", "--cause", "1.9.0 broke bookings")
    project.ok("incident", "postmortem", "INC-1")

    draft = (tmp_path / "postmortems" / "INC-1.md").read_text()
    assert REAL in draft
    assert DRY not in draft
    assert "hvb:1.9.1" not in draft
