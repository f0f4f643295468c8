"""``opsctl incident postmortem``: the draft compared with an expected file, recording, overrides, sandbox."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from opsctl.workspace import Workspace
from tests.incidents.runs import Item, Run, passed, record
from tests.incidents.support import ALICE, BOB, Project, make_project

EXPECTED = Path(__file__).parent / "expected" / "INC-1.md"
CAROL = "carol@example.com"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A P1 opened after a deploy, rolled back with --incident, acknowledged, annotated and resolved."""
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path)
    ws = Workspace.load(str(project.config), actor=CAROL, clock=project.clock)
    deploy = Run(
        "r20261127-093000-aaaaaa",
        "deploy",
        "production",
        {"image": "hvb:1.9.0", "timeout": 900.0, "reason": "booking flow v2", "approved_by": [BOB]},
        "hvb:1.8.0",
        "hvb:1.9.0",
        summary="deploy succeeded: hvb-release-1.9.0 (hvb:1.9.0) verified",
        checklists=(passed("post-deploy", "post-deploy"),),
    )
    record(ws, project.clock, deploy, -30, -22)
    project.clock.at(0)
    project.ok("incident", "open", "-s", "P1", "-t", "Booking calls fail | timeouts", "--env", "production")
    project.clock.at(4)
    project.ok("incident", "ack", "INC-1", actor=BOB)
    project.clock.at(6)
    project.ok("incident", "note", "INC-1", "errors started after the 1.9.0 deploy", actor=BOB)
    ws.actor = BOB
    warned = Item("errors", "Error rate within the SLO", "metrics.error_rate", "warned", "error rate 0.80% near 1.00%")
    rollback = Run(
        "r20261127-100800-bbbbbb",
        "rollback",
        "production",
        {"to": None, "timeout": 900.0, "reason": "booking calls fail", "incident": "INC-1"},
        "hvb:1.9.0",
        "hvb:1.8.0",
        summary="rollback succeeded: hvb-release-1.8.0 (hvb:1.8.0) verified",
        checklists=(passed("verify", "rollback-verify", warned),),
        incident="INC-1",
    )
    record(ws, project.clock, rollback, 8, 12)
    project.clock.at(40)
    project.ok("incident", "resolve", "INC-1", "--cause", "1.9.0 exhausted the DB pool; rolled back", actor=BOB)
    project.clock.at(45)
    return project


def test_postmortem_matches_the_expected_file_and_is_recorded(project: Project) -> None:
    done = project.ok("incident", "postmortem", "INC-1")
    assert done.out == "INC-1 post-mortem written to postmortems/INC-1.md (template: built-in)\n"
    written = project.path / "postmortems" / "INC-1.md"
    assert written.read_text() == EXPECTED.read_text()

    (event,) = [e for e in project.events() if e["status"] == "postmortem"]
    assert (event["incident"], event["actor"], event["path"], event["template"]) == (
        "INC-1",
        ALICE,
        "postmortems/INC-1.md",
        "built-in",
    )
    assert event["sha256"] == hashlib.sha256(written.read_bytes()).hexdigest()
    shown = project.ok("--json", "incident", "show", "INC-1").json()
    assert (shown["postmortem"], shown["postmortem_due"]) == ("postmortems/INC-1.md", False)
    assert shown["timeline"][-1]["what"] == "post-mortem written to postmortems/INC-1.md"


def test_the_timeline_and_changes_come_from_the_runs(project: Project) -> None:
    shown = project.ok("--json", "incident", "show", "INC-1").json()
    assert [(e["at"][11:16], e["kind"], e["what"]) for e in shown["timeline"]] == [
        ("10:00", "incident", "opened as P1 in production: Booking calls fail | timeouts"),
        ("10:04", "incident", "acknowledged"),
        ("10:06", "incident", "note: errors started after the 1.9.0 deploy"),
        ("10:08", "run", "rollback started in production: to the last verified release (booking calls fail)"),
        ("10:12", "run", "rollback succeeded: hvb-release-1.8.0 (hvb:1.8.0) verified"),
        ("10:40", "incident", "resolved: 1.9.0 exhausted the DB pool; rolled back"),
    ]
    assert [(c["run"], c["linked"], c["image_before"], c["image_after"], c["verified"]) for c in shown["changes"]] == [
        ("r20261127-093000-aaaaaa", False, "hvb:1.8.0", "hvb:1.9.0", True),
        ("r20261127-100800-bbbbbb", True, "hvb:1.9.0", "hvb:1.8.0", True),
    ]
    assert shown["runs"] == ["r20261127-100800-bbbbbb"]
    text = project.ok("incident", "show", "INC-1").out
    assert (
        "rollback r20261127-100800-bbbbbb in production (for this incident): succeeded, hvb:1.9.0 → hvb:1.8.0, verified"
    ) in text


def test_an_existing_draft_is_kept_unless_forced(project: Project) -> None:
    project.ok("incident", "postmortem", "INC-1")
    draft = project.path / "postmortems" / "INC-1.md"
    draft.write_text("edited by a person\n")
    again = project.run("incident", "postmortem", "INC-1")
    assert (again.code, again.error()) == (
        2,
        "error: postmortems/INC-1.md already exists: edit it, or pass --force to write it again",
    )
    assert draft.read_text() == "edited by a person\n"
    project.ok("incident", "postmortem", "INC-1", "--force")
    # The same draft, whose timeline now also shows the first one being written.
    first_written = "| 2026-11-27 10:45:00 | alice@example.com | post-mortem written to postmortems/INC-1.md |\n"
    assert draft.read_text().replace(first_written, "") == EXPECTED.read_text()
    assert [e["status"] for e in project.events()].count("postmortem") == 2


def test_out_writes_elsewhere(project: Project) -> None:
    done = project.ok("incident", "postmortem", "INC-1", "--out", "docs/pm.md")
    assert done.out == "INC-1 post-mortem written to docs/pm.md (template: built-in)\n"
    assert (project.path / "docs" / "pm.md").read_text() == EXPECTED.read_text()


def test_a_project_template_overrides_the_built_in(project: Project) -> None:
    templates = project.path / "templates"
    templates.mkdir()
    (templates / "postmortem.md.j2").write_text(
        "# {{ incident.id }} ({{ incident.severity }}) {{ incident.title | cell }}\n"
        "{% for c in changes if c.linked %}{{ c.runbook }}: {{ c.image_before }} -> {{ c.image_after }}\n{% endfor %}"
        "MTTR {{ measures[1].seconds | duration }}\n"
    )
    done = project.ok("incident", "postmortem", "INC-1")
    assert done.out == "INC-1 post-mortem written to postmortems/INC-1.md (template: templates/postmortem.md.j2)\n"
    assert (project.path / "postmortems" / "INC-1.md").read_text() == (
        "# INC-1 (P1) Booking calls fail \\| timeouts\nrollback: hvb:1.9.0 -> hvb:1.8.0\nMTTR 40m00s\n"
    )


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (
            "{{ ''.__class__.__mro__ }}",
            "error: templates/postmortem.md.j2 cannot be rendered: SecurityError: "
            "access to attribute '__class__' of 'str' object is unsafe.",
        ),
        (
            "{{ changes.append(1) }}",
            "error: templates/postmortem.md.j2 cannot be rendered: SecurityError: "
            "access to attribute 'append' of 'list' object is unsafe.",
        ),
        (
            "{{ secrets }}",
            "error: templates/postmortem.md.j2 cannot be rendered: UndefinedError: 'secrets' is undefined",
        ),
        (
            "line one\n{% for x in %}",
            "error: templates/postmortem.md.j2:2 cannot be rendered: TemplateSyntaxError: "
            "Expected an expression, got 'end of statement block'",
        ),
    ],
)
def test_project_templates_are_sandboxed(project: Project, source: str, line: str) -> None:
    (project.path / "templates").mkdir()
    (project.path / "templates" / "postmortem.md.j2").write_text(source)
    done = project.run("incident", "postmortem", "INC-1")
    assert (done.code, done.error()) == (2, line)
    assert not (project.path / "postmortems").exists()
    assert [e["status"] for e in project.events() if e["status"] == "postmortem"] == []
