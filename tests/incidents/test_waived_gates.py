"""A gate waived in a change before an incident is named in its timeline and in the post-mortem draft."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.workspace import Workspace
from tests.incidents.runs import Checklist, Item, Run, passed, record
from tests.incidents.support import ALICE, BOB, Project, make_project

SUSPECT = "r20261127-093000-aaaaaa"
WAIVED = f"waived by {BOB}, approved by lead@example.com: scanner down, INC-7"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A deploy of hvb:1.9.0 whose security scan was waived, then a P1 in production."""
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path)
    ws = Workspace.load(str(project.config), actor=BOB, clock=project.clock)
    gates = Checklist(
        "pre-deploy",
        "pre-deploy",
        "warned",
        (
            Item("tests-confirmed", "All tests passing", "manual", "passed", f"confirmed by {BOB}"),
            Item("security-scan", "Security scan completed", "manual", "waived", WAIVED),
            Item(
                "git-clean", "Working tree clean", "git.clean", "not_applicable", "does not apply (when: env.protected)"
            ),
        ),
    )
    deploy = Run(
        SUSPECT,
        "deploy",
        "production",
        {"image": "hvb:1.9.0"},
        "hvb:1.8.0",
        "hvb:1.9.0",
        summary="deploy succeeded: hvb-release-1.9.0 (hvb:1.9.0) verified",
        checklists=(gates, passed("post-deploy", "post-deploy")),
    )
    record(ws, project.clock, deploy, -30, -22)
    project.clock.at(0)
    project.ok("incident", "open", "-s", "P1", "-t", "Booking calls fail", "--env", "production", actor=ALICE)
    return project


def test_the_suspect_change_lists_its_waived_gate(project: Project) -> None:
    shown = project.ok("--json", "incident", "show", "INC-1").json()

    (change,) = shown["changes"]
    assert (change["run"], change["linked"]) == (SUSPECT, False)
    assert change["waived"] == [{"name": "security-scan", "summary": WAIVED}]
    assert change["checks"][:2] == [
        {"name": "pre-deploy", "status": "warned", "summary": "1 passed, 1 waived, 1 not applicable", "item": False},
        {"name": "security-scan", "status": "waived", "summary": WAIVED, "item": True},
    ]


def test_the_post_mortem_names_the_waived_gate(project: Project, tmp_path: Path) -> None:
    project.clock.at(30)
    project.ok("incident", "resolve", "INC-1", "--cause", "1.9.0 shipped an unscanned dependency")
    project.ok("incident", "postmortem", "INC-1")

    draft = (tmp_path / "postmortems" / "INC-1.md").read_text()
    assert "- **Gates waived:** security-scan (went ahead without them being done; see below)\n" in draft
    assert "- pre-deploy: warned — 1 passed, 1 waived, 1 not applicable\n" in draft
    assert f"  - security-scan: waived — {WAIVED}\n" in draft
