"""Escalation, response deadlines, post-mortem dates, and the bad input of the incident-comms options."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.incidents.comms_support import Comms, assert_no_secret, comms_fixture  # noqa: F401 - the fixture
from tests.incidents.support import make_project
from tests.support.pagerduty_api import TOKEN


def test_escalate_with_a_rotation_invites_the_next_level_into_the_channel(comms: Comms, tmp_path: Path) -> None:
    project = comms.project(tmp_path)
    project.ok("incident", "open", "-s", "P1", "-t", "Calls drop")
    second = project.ok("incident", "escalate", "INC-1")
    assert second.out == (
        "INC-1 escalated to level 2 (secondary): ben@example.com\n"
        "  ✓ posted in #inc-1-calls-drop, invited ben@example.com\n"
    )
    third = project.ok("incident", "escalate", "INC-1")
    assert third.out.startswith("INC-1 escalated to level 3 (escalation): Tess (tech-lead@example.com)\n")
    assert comms.slack.channel_named("inc-1-calls-drop")["members"] == ["U0001", "U0002", "U0003"]
    last = project.run("incident", "escalate", "INC-1")
    assert (last.code, last.error()) == (
        2,
        "error: INC-1 is already at the last escalation level (3: Tess (tech-lead@example.com))",
    )
    assert [(e["status"], e.get("level"), e.get("to")) for e in project.events() if e["status"] == "escalated"] == [
        ("escalated", 2, ["ben@example.com"]),
        ("escalated", 3, ["tech-lead@example.com"]),
    ]


def test_escalate_through_pagerduty_moves_its_incident(comms: Comms, tmp_path: Path) -> None:
    comms.pd.add_oncall(1, "Ana", "ana@example.com", start=None, end=None)
    comms.pd.add_oncall(2, "Ben", "ben@example.com", start=None, end=None)
    project = comms.project(tmp_path, pagerduty_oncall=True, channel=False)
    project.ok("incident", "open", "-s", "P0", "-t", "Every call fails")
    escalated = project.ok("incident", "escalate", "INC-1")
    pd_id = comms.pd.incidents["INC-1"].id
    assert escalated.out == (
        "INC-1 escalated to level 2 (secondary): Ben (ben@example.com)\n"
        f"  ✓ PagerDuty incident {pd_id} escalated to level 2\n"
    )
    (put,) = comms.pd.calls("PUT")
    assert (put.headers["from"], put.body) == (
        "alice@example.com",
        {"incident": {"type": "incident_reference", "escalation_level": 2}},
    )
    assert comms.pd.incidents["INC-1"].escalation_level == 2
    assert_no_secret(project.audit_path.read_text(), escalated.out)
    assert TOKEN not in escalated.err


def test_an_escalation_that_reaches_nobody_fails_loudly(tmp_path: Path) -> None:
    rotation = {"timezone": "UTC", "handoff": "mon 09:00", "people": ["ana@example.com", "ben@example.com"]}
    project = make_project(tmp_path, oncall={"rotation": rotation})
    project.ok("incident", "open", "-s", "P1", "-t", "Calls drop")
    failed = project.run("incident", "escalate", "INC-1")
    assert (failed.code, failed.error()) == (
        1,
        "error: INC-1 escalation to level 2 is recorded but reached nobody automatically: call ben@example.com by hand",
    )
    assert project.events()[-1]["status"] == "escalated"


def test_list_marks_a_missed_response_and_shows_overdue_postmortems(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    project.ok("incident", "open", "-s", "P1", "-t", "Calls drop")  # respond by 10:15
    project.ok("incident", "open", "-s", "P3", "-t", "Typo")  # respond by 14:00
    project.clock.at(20)
    listed = {i["id"]: i for i in project.ok("--json", "incident", "list").json()}
    assert {k: v["respond_overdue"] for k, v in listed.items()} == {"INC-1": True, "INC-2": False}
    assert "NO ACK (respond by 2026-11-27 10:15)" in project.ok("incident", "list").out

    project.ok("incident", "resolve", "INC-1", "--cause", "bad deploy", "--postmortem-date", "2026-12-01")
    assert project.ok("incident", "list", "--postmortems-due").out == "no overdue post-mortems\n"
    project.clock.at(4 * 24 * 60 + 60)  # Tuesday 2026-12-01 11:00: the day itself is still on time
    assert project.ok("--json", "incident", "list", "--postmortems-due").json() == []
    project.clock.at(5 * 24 * 60)  # Wednesday
    (due,) = project.ok("--json", "incident", "list", "--postmortems-due").json()
    assert (due["id"], due["postmortem_by"], due["postmortem_overdue"]) == ("INC-1", "2026-12-01", True)
    assert "post-mortem overdue (due 2026-12-01)" in project.ok("incident", "list", "--postmortems-due").out


POSTMORTEM_DATES = [
    (
        "2026-12-05",
        "error: --postmortem-date 2026-12-05 is more than 5 business days away: the post-mortem is due by 2026-12-04",
    ),
    (
        "2026-11-26",
        "error: --postmortem-date 2026-11-26 is in the past: "
        "pick a day from 2026-11-27 to 2026-12-04 (5 business days)",
    ),
    ("next week", "error: --postmortem-date must be a day like 2026-12-04, not 'next week'"),
]


@pytest.mark.parametrize(("day", "message"), POSTMORTEM_DATES)
def test_postmortem_date_within_5_business_days(tmp_path: Path, day: str, message: str) -> None:
    project = make_project(tmp_path)
    project.ok("incident", "open", "-s", "P0", "-t", "Outage")
    failed = project.run("incident", "resolve", "INC-1", "--cause", "x", "--postmortem-date", day)
    assert (failed.code, failed.error()) == (2, message)
    assert [e["status"] for e in project.events()] == ["opened"]  # nothing resolved


def test_a_p2_takes_no_postmortem_date(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    project.ok("incident", "open", "-s", "P2", "-t", "Slow")
    failed = project.run("incident", "resolve", "INC-1", "--cause", "x", "--postmortem-date", "2026-11-30")
    assert (failed.code, failed.error()) == (
        2,
        "error: INC-1 is P2: only P0 and P1 incidents get a post-mortem date",
    )


BAD_OPEN = [
    (
        ["--public", "--component", "db"],
        "error: unknown Statuspage component 'db' (notify.statuspage.components: bot)",
    ),
    (["--component", "bot"], "error: --component sets the status page: pass it with --public"),
]


@pytest.mark.parametrize(("args", "message"), BAD_OPEN)
def test_bad_open_options_open_nothing(comms: Comms, tmp_path: Path, args: list[str], message: str) -> None:
    project = comms.project(tmp_path)
    failed = project.run("incident", "open", "-s", "P1", "-t", "x", *args)
    assert (failed.code, failed.error()) == (2, message)
    assert not project.audit_path.exists() or project.events() == []
    assert comms.pd.requests == comms.slack.requests == comms.statuspage.requests == []


def test_public_without_a_status_page_or_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    failed = make_project(tmp_path).run("incident", "open", "-s", "P1", "-t", "x", "--public")
    assert (failed.code, failed.error()) == (
        2,
        "error: --public needs a status page: add notify: {statuspage: {page_id: ..., api_key_env: "
        "STATUSPAGE_API_KEY, components: {bot: COMPONENT_ID}}} to opsctl.yaml",
    )
    monkeypatch.delenv("HVB_SP_KEY", raising=False)
    project = make_project(tmp_path, notify={"statuspage": {"page_id": "p1", "api_key_env": "HVB_SP_KEY"}})
    failed = project.run("incident", "open", "-s", "P1", "-t", "x", "--public")
    assert (failed.code, failed.error()) == (
        2,
        "error: HVB_SP_KEY is not set: export the Statuspage API key (notify.statuspage.api_key_env)",
    )


def test_public_notes_need_a_public_incident(comms: Comms, tmp_path: Path) -> None:
    project = comms.project(tmp_path, channel=False)
    project.ok("incident", "open", "-s", "P1", "-t", "x")
    failed = project.run("incident", "note", "INC-1", "--public", "hello")
    assert (failed.code, failed.error()) == (
        2,
        "error: INC-1 is not public: it was opened without --public, so there is no status page to update",
    )
    failed = project.run("incident", "note", "INC-1", "--status", "identified", "hello")
    assert (failed.code, failed.error()) == (2, "error: --status sets the status page: pass it with --public")
    assert [e["status"] for e in project.events()] == ["opened"]
    assert comms.statuspage.requests == []
