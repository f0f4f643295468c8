"""``opsctl incident`` end to end in-process: a real config and audit log in tmp_path, an injected clock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from opsctl.incidents.lifecycle import open_incident
from opsctl.incidents.model import Severity
from opsctl.workspace import Workspace
from tests.incidents.support import ALICE, BOB, Project, make_project, strip_chain


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path)


def test_open_ack_note_resolve_is_audited_step_by_step(project: Project) -> None:
    opened = project.ok("incident", "open", "--severity", "P1", "--title", "Booking calls fail", "--env", "production")
    assert opened.out == (
        "INC-1 · P1 (high) · open · production · Booking calls fail\n"
        "  opened 2026-11-27 10:00 by alice@example.com\n"
        "  respond within 15 minutes: by 2026-11-27 10:15\n"
    )
    project.clock.at(7)
    assert project.ok("incident", "ack", "INC-1", actor=BOB).out == "INC-1 acknowledged by bob@example.com\n"
    project.clock.at(12)
    assert project.ok("incident", "note", "inc-1", "errors since the 1.9.0 deploy", actor=BOB).out == (
        "INC-1: note added\n"
    )
    project.clock.at(40)
    resolved = project.ok("incident", "resolve", "INC-1", "--cause", "DB pool exhausted by 1.9.0", actor=BOB)
    assert resolved.out == (
        "INC-1 resolved by bob@example.com\n"
        "  time to acknowledge 7m00s (target 15m00s) met\n"
        "  time to resolve     40m00s (target 8h00m) met\n"
        "  P1 needs a post-mortem: opsctl incident postmortem INC-1\n"
        "  post-mortem due by 2026-12-04 (Fri)\n"  # 5 business days after Friday 2026-11-27
    )

    events = project.events()
    common = {"runbook": "incident", "env": "production", "step": "incident", "incident": "INC-1"}
    assert [strip_chain(e) for e in events] == [
        {
            "ts": "2026-11-27T10:00:00.000Z",
            **common,
            "actor": ALICE,
            "status": "opened",
            "severity": "P1",
            "title": "Booking calls fail",
            "respond_within": "15 minutes",
            "respond_target_s": 900.0,
            "urgency": "high",
            "matrix": None,
            "summary": "INC-1 opened (P1): Booking calls fail",
        },
        {
            "ts": "2026-11-27T10:07:00.000Z",
            **common,
            "actor": BOB,
            "status": "acknowledged",
            "summary": "INC-1 acknowledged by bob@example.com",
        },
        {
            "ts": "2026-11-27T10:12:00.000Z",
            **common,
            "actor": BOB,
            "status": "noted",
            "text": "errors since the 1.9.0 deploy",
            "summary": "INC-1: errors since the 1.9.0 deploy",
        },
        {
            "ts": "2026-11-27T10:40:00.000Z",
            **common,
            "actor": BOB,
            "status": "resolved",
            "cause": "DB pool exhausted by 1.9.0",
            "duration_s": 2400.0,
            "postmortem_by": "2026-12-04",
            "summary": "INC-1 resolved: DB pool exhausted by 1.9.0",
        },
    ]
    assert len({e["run"] for e in events}) == 4  # one small run per command, each findable with audit show --run
    assert project.ok("audit", "verify").code == 0

    shown = project.ok("--json", "incident", "show", "INC-1").json()
    assert [(e["at"], e["actor"], e["kind"], e["what"]) for e in shown["timeline"]] == [
        ("2026-11-27T10:00:00.000Z", ALICE, "incident", "opened as P1 in production: Booking calls fail"),
        ("2026-11-27T10:07:00.000Z", BOB, "incident", "acknowledged"),
        ("2026-11-27T10:12:00.000Z", BOB, "incident", "note: errors since the 1.9.0 deploy"),
        ("2026-11-27T10:40:00.000Z", BOB, "incident", "resolved: DB pool exhausted by 1.9.0"),
    ]
    assert shown["acknowledge"] == {
        "name": "acknowledge",
        "seconds": 420.0,
        "target_seconds": 900.0,
        "done": True,
        "breached": False,
    }
    assert shown["resolve"]["seconds"] == 2400.0
    assert (shown["status"], shown["respond_by"], shown["postmortem_due"]) == (
        "resolved",
        "2026-11-27T10:15:00.000Z",
        True,
    )
    assert project.ok("incident", "list", "--open").out == "no open incidents\n"


def test_show_and_list_highlight_breaches(project: Project) -> None:
    project.ok("incident", "open", "-s", "P0", "-t", "Every call fails")
    project.ok("incident", "open", "-s", "P3", "-t", "Typo in a greeting")
    project.clock.at(9)
    project.ok("incident", "ack", "INC-1", actor=BOB)  # 9 minutes for a P0: breached
    text = project.ok("incident", "show", "INC-1").out
    assert "time to acknowledge 9m00s (target 5m00s) BREACHED" in text
    assert "time to resolve     9m00s… (target 4h00m) running" in text
    project.clock.at(5 * 60)  # five hours on: the P0 is past its 4h resolution target, the P3 past its 4h response
    listed = {i["id"]: i for i in project.ok("--json", "incident", "list", "--open").json()}
    assert {k: v["breaches"] for k, v in listed.items()} == {
        "INC-1": ["acknowledge", "resolve"],
        "INC-2": ["acknowledge"],
    }
    table = project.ok("incident", "list").out
    assert "BREACHED" in table
    assert "OVERDUE" in table


def test_ids_are_sequential_and_skip_numbers_already_named_by_runs(project: Project) -> None:
    project.ok("incident", "open", "-s", "P2", "-t", "first")
    ws = Workspace.load(str(project.config), actor=ALICE, clock=project.clock)
    # A hot-patch tied to an id from another tracker: a new incident must not take its number.
    ws.journal("r-external", "hot-patch", "production", incident="INC-7").event("run", "started", params={})
    assert project.ok("--json", "incident", "open", "-s", "P2", "-t", "second").json()["incident"]["id"] == "INC-8"
    assert [i["id"] for i in project.ok("--json", "incident", "list").json()] == ["INC-1", "INC-8"]


def test_concurrent_opens_never_share_an_id(project: Project) -> None:
    opened: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        try:
            ws = Workspace.load(str(project.config), actor=f"engineer{n}@example.com", clock=project.clock)
            start.wait()
            opened.append(open_incident(ws, Severity.P2, f"incident {n}").incident.id)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(opened, key=lambda i: int(i[4:])) == [f"INC-{n}" for n in range(1, 9)]
    assert project.ok("audit", "verify").code == 0


def test_decision_matrix_prompt_in_a_terminal(project: Project) -> None:
    done = project.run("incident", "open", "-t", "Nobody can book", tty=True, input="outage\nall\nno\n\n")
    assert done.code == 0, done.out + done.err
    assert "→ P0 (critical): respond immediately" in done.out
    assert "  respond immediately: by 2026-11-27 10:05" in done.out
    overridden = project.run("incident", "open", "-t", "One hotel slow", tty=True, input="degraded\none\nyes\nP2\n")
    assert overridden.code == 0, overridden.out + overridden.err
    opened = [e for e in project.events() if e["status"] == "opened"]
    assert [(e["severity"], e["matrix"]) for e in opened] == [
        ("P0", {"impact": "outage", "scope": "all", "workaround": False}),
        ("P2", {"impact": "degraded", "scope": "one", "workaround": True}),  # suggested P3, chosen P2
    ]


def test_resolve_reminds_of_the_postmortem_for_p0_p1_only(project: Project) -> None:
    project.ok("incident", "open", "-s", "P2", "-t", "Slow replies")
    assert "post-mortem" not in project.ok("incident", "resolve", "INC-1", "--cause", "cache cold").out
    project.ok("incident", "open", "-s", "P0", "-t", "Outage")
    assert (
        "P0 needs a post-mortem: opsctl incident postmortem INC-2"
        in project.ok("incident", "resolve", "INC-2", "--cause", "bad deploy").out
    )


BAD_INPUT = [
    (["incident", "open", "--severity", "P5", "--title", "x"], "error: unknown severity 'P5' (use P0, P1, P2 or P3)"),
    (
        ["incident", "open", "--title", "x"],
        "error: --severity is required without a terminal: pass --severity P0, P1, P2 or P3",
    ),
    (
        ["incident", "open", "-s", "P1", "--title", "   "],
        "error: --title must not be empty: say what is wrong, e.g. 'booking calls fail'",
    ),
    (["incident", "show", "INC-9"], "error: no incident INC-9 in the audit log (see `opsctl incident list`)"),
    (["incident", "ack", "INC-9"], "error: no incident INC-9 in the audit log (see `opsctl incident list`)"),
    (["incident", "note", "INC-9", "x"], "error: no incident INC-9 in the audit log (see `opsctl incident list`)"),
    (
        ["incident", "resolve", "INC-9", "--cause", "x"],
        "error: no incident INC-9 in the audit log (see `opsctl incident list`)",
    ),
    (["incident", "postmortem", "INC-9"], "error: no incident INC-9 in the audit log (see `opsctl incident list`)"),
    (["incident", "show", "42"], "error: not an incident id: '42' (expected INC-<number>, e.g. INC-42)"),
    (["incident", "note", "INC-1", " "], "error: the note is empty: say what was seen or done"),
    (
        ["incident", "resolve", "INC-1", "--cause", ""],
        "error: --cause must not be empty: say what caused it (it seeds the post-mortem)",
    ),
]


@pytest.mark.parametrize(("args", "line"), BAD_INPUT)
def test_bad_input_exits_2_with_one_line(project: Project, args: list[str], line: str) -> None:
    project.ok("incident", "open", "-s", "P1", "-t", "calls fail")
    before = project.events(step=None)
    done = project.run(*args)
    assert (done.code, done.error(), done.out) == (2, line, "")
    assert project.events(step=None) == before  # nothing was written


def test_unknown_environment_is_bad_input(project: Project) -> None:
    done = project.run("incident", "open", "-s", "P1", "-t", "x", "--env", "qa")
    assert done.code == 2
    assert done.error().startswith("error: unknown environment 'qa' (defined in ")


def test_resolving_twice_and_acknowledging_late_are_bad_input(project: Project) -> None:
    project.ok("incident", "open", "-s", "P1", "-t", "calls fail")
    project.clock.at(3)
    project.ok("incident", "ack", "INC-1", actor=BOB)
    twice = project.run("incident", "ack", "INC-1")
    assert (twice.code, twice.error()) == (
        2,
        "error: INC-1 is already acknowledged (by bob@example.com at 2026-11-27 10:03Z)",
    )
    project.clock.at(30)
    project.ok("incident", "resolve", "INC-1", "--cause", "bad deploy", actor=BOB)
    again = project.run("incident", "resolve", "INC-1", "--cause", "something else")
    assert again.code == 2
    assert again.error() == (
        "error: INC-1 is already resolved (by bob@example.com at 2026-11-27 10:30Z); "
        "add a note instead: opsctl incident note INC-1 TEXT"
    )
    late = project.run("incident", "ack", "INC-1")
    assert (late.code, late.error()) == (2, "error: INC-1 is already resolved; there is nothing to acknowledge")
    assert [e["status"] for e in project.events()] == ["opened", "acknowledged", "resolved"]
    assert project.ok("incident", "note", "INC-1", "follow-up: alert on pool usage").code == 0  # notes stay open
