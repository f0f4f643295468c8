"""Incident communication through the stand-ins: ticket, channel, page, status page; ack, note, resolve."""

from __future__ import annotations

from pathlib import Path

from tests.incidents.comms_support import Comms, assert_no_secret, comms_fixture  # noqa: F401 - the fixture
from tests.incidents.support import BOB
from tests.support.github_issues_api import REPO
from tests.support.statuspage_api import COMPONENT, PAGE_ID

TICKET = "https://github.example.test/acme/hvb/issues/1"
CHANNEL = "https://slack.com/app_redirect?channel=C000001"
SUMMARY = (
    "INC-1 [P1, high] Booking calls fail\n"
    "Service: hotel-voice-bot · environment: production\n"
    "Opened 2026-11-27 10:00Z by alice@example.com; respond within 15 minutes (by 2026-11-27 10:15Z)\n"
)


def test_open_makes_the_ticket_and_channel_then_pages_with_links_then_goes_public(comms: Comms, tmp_path: Path) -> None:
    project = comms.project(tmp_path, ticket=True)
    opened = project.ok("incident", "open", "-s", "P1", "-t", "Booking calls fail", "--env", "production", "--public")

    assert opened.out == (
        "INC-1 · P1 (high) · open · production · Booking calls fail\n"
        "  opened 2026-11-27 10:00 by alice@example.com\n"
        "  respond within 15 minutes: by 2026-11-27 10:15\n"
        f"  ticket: {TICKET}\n"
        f"  channel: {CHANNEL}\n"
        "  status page: https://stspg.io/hvb1\n"
        f"  ✓ GitHub issue #1 opened: {TICKET}\n"
        "  ✓ Slack channel #inc-1-booking-calls-fail made, invited ana@example.com, ben@example.com, summary pinned\n"
        "  - Slack takes no incident.opened message for this environment\n"
        "  ✓ PagerDuty alert event accepted incident.opened (HTTP 202)\n"
        "  ✓ Statuspage incident spinc0001 opened (investigating; bot: partial_outage)\n"
    )
    (trigger,) = comms.pd.events()
    assert (trigger["event_action"], trigger["dedup_key"], trigger["payload"]["severity"]) == (
        "trigger",
        "INC-1",
        "error",
    )
    assert trigger["links"] == [
        {"href": TICKET, "text": "Ticket INC-1"},
        {"href": CHANNEL, "text": "Slack channel of INC-1"},
    ]
    assert comms.pd.incidents["INC-1"].urgency == "high"

    (created,) = comms.statuspage.calls("POST", f"/pages/{PAGE_ID}/incidents")
    assert created.headers["authorization"].startswith("OAuth ")
    assert created.body == {
        "incident": {
            "name": "Booking calls fail",
            "status": "investigating",
            "body": "We are investigating a problem with hotel-voice-bot. We will post updates here.",
            "component_ids": [COMPONENT],
            "components": {COMPONENT: "partial_outage"},
        }
    }
    assert comms.statuspage.component_status == {COMPONENT: "partial_outage"}

    assert [(r.method, r.path) for r in comms.slack.requests] == [
        ("POST", "/conversations.create"),
        ("GET", "/users.lookupByEmail"),
        ("GET", "/users.lookupByEmail"),
        ("POST", "/conversations.invite"),
        ("POST", "/chat.postMessage"),
        ("POST", "/pins.add"),
    ]
    assert comms.slack.requests[0].body == {"name": "inc-1-booking-calls-fail", "is_private": False}
    assert comms.slack.requests[3].body == {"channel": "C000001", "users": "U0001,U0002"}
    channel = comms.slack.channel_named("inc-1-booking-calls-fail")
    assert channel["members"] == ["U0001", "U0002"]
    assert channel["messages"][0]["text"] == (
        SUMMARY + "On call: ana@example.com (primary), ben@example.com (secondary)\n"
        f"Ticket: {TICKET}\nTimeline: opsctl incident show INC-1"
    )
    assert channel["pins"] == [channel["messages"][0]["ts"]]

    (issue,) = comms.github.calls("POST", f"/repos/{REPO}/issues")
    assert issue.body == {
        "title": "INC-1 [P1] Booking calls fail",
        "body": SUMMARY + "Timeline: opsctl incident show INC-1",
        "labels": ["incident", "severity:P1"],
    }

    shown = project.ok("--json", "incident", "show", "INC-1").json()
    assert shown["links"] == {
        "ticket": {"number": 1, "url": TICKET, "repo": REPO},
        "channel": {"id": "C000001", "name": "inc-1-booking-calls-fail", "url": CHANNEL},
        "statuspage": {
            "id": "spinc0001",
            "url": "https://stspg.io/hvb1",
            "status": "investigating",
            "components": [COMPONENT],
        },
    }
    lines = [e["what"] for e in shown["timeline"] if e["kind"] == "incident"]
    assert lines == [
        "opened as P1 in production: Booking calls fail",
        f"ticket #1: {TICKET}",
        f"channel #inc-1-booking-calls-fail: {CHANNEL}",
        "status page incident spinc0001: https://stspg.io/hvb1",
    ]
    notify_events = project.events(step="notify")
    assert [(e["channel"], e["kind"], e["destination"]) for e in notify_events if "destination" in e] == [
        ("github", "ticket", comms.github.url),
        ("slack", "channel", comms.slack.url),
        ("statuspage", "public incident", comms.statuspage.url),
    ]
    assert project.ok("audit", "verify").code == 0
    assert_no_secret(project.audit_path.read_text(), opened.out, opened.err)


def test_ack_note_and_resolve_follow_through(comms: Comms, tmp_path: Path) -> None:
    project = comms.project(tmp_path, ticket=True)
    project.ok("incident", "open", "-s", "P1", "-t", "Booking calls fail", "--public")
    project.clock.at(5)
    acked = project.ok("incident", "ack", "INC-1", actor=BOB)
    project.ok("incident", "note", "INC-1", "pool at 100% since the 1.9.0 deploy")  # internal
    project.ok("incident", "note", "INC-1", "--public", "--status", "identified", "We found the cause.")
    project.clock.at(50)
    resolved = project.ok("incident", "resolve", "INC-1", "--cause", "1.9.0 leaked DB connections", actor=BOB)

    assert [(e["event_action"], e["dedup_key"]) for e in comms.pd.events()] == [
        ("trigger", "INC-1"),
        ("acknowledge", "INC-1"),
        ("resolve", "INC-1"),
    ]
    assert comms.pd.incidents["INC-1"].status == "resolved"
    updates = [r.body for r in comms.statuspage.calls("PATCH", f"/pages/{PAGE_ID}/incidents/spinc0001")]
    assert updates == [
        {"incident": {"status": "identified", "body": "We found the cause."}},
        {
            "incident": {
                "status": "resolved",
                "body": "This incident has been resolved.",
                "component_ids": [COMPONENT],
                "components": {COMPONENT: "operational"},
            }
        },
    ]
    assert comms.statuspage.component_status == {COMPONENT: "operational"}
    public_text = str(comms.statuspage.requests)
    assert "pool at 100%" not in public_text  # an internal note never goes public
    assert "leaked DB connections" not in public_text  # nor the cause

    messages = [m["text"] for m in comms.slack.channel_named("inc-1-booking-calls-fail")["messages"][1:]]
    assert messages == [
        "👀 INC-1 acknowledged by bob@example.com",
        "📝 alice@example.com: pool at 100% since the 1.9.0 deploy",
        "📝 alice@example.com (public): We found the cause.",
        "✅ INC-1 resolved by bob@example.com: 1.9.0 leaked DB connections; post-mortem due by 2026-12-04",
    ]
    assert comms.github.issues[1]["state"] == "closed"
    assert comms.github.issues[1]["comments"] == [
        "Resolved by bob@example.com: 1.9.0 leaked DB connections\n\nPost-mortem due by 2026-12-04."
    ]
    assert "  ✓ PagerDuty alert event accepted incident.acknowledged (HTTP 202)\n" in acked.out
    assert resolved.out.endswith(
        "  P1 needs a post-mortem: opsctl incident postmortem INC-1\n"
        "  post-mortem due by 2026-12-04 (Fri)\n"
        "  - Slack takes no incident.resolved message for this environment\n"
        "  ✓ PagerDuty alert event accepted incident.resolved (HTTP 202)\n"
        "  ✓ Statuspage incident spinc0001 resolved; 1 component(s) operational\n"
        "  ✓ GitHub issue #1 closed\n"
        "  ✓ posted in #inc-1-booking-calls-fail\n"
    )
    assert_no_secret(project.audit_path.read_text(), acked.out, resolved.out)


def test_pagerduty_unreachable_still_opens_and_records_but_fails_loudly(comms: Comms, tmp_path: Path) -> None:
    project = comms.project(tmp_path, channel=False)
    comms.pd.stop()  # nothing listens on its port any more
    failed = project.run("incident", "open", "-s", "P0", "-t", "Every call fails", "--public")
    assert failed.code == 1
    assert failed.error() == (
        "error: INC-1 is opened and recorded, but the page failed (could not deliver incident.opened to "
        "PagerDuty alert event after 3 attempt(s): connection refused): page the on-call by hand "
        "(see `opsctl oncall`)"
    )
    assert "INC-1 · P0 (critical) · open" in failed.out
    assert [e["status"] for e in project.events()] == ["opened", "linked"]  # the status page still went public
    assert comms.statuspage.component_status == {COMPONENT: "major_outage"}
    assert project.ok("--json", "incident", "list").json()[0]["id"] == "INC-1"


def test_statuspage_rate_limit_is_honoured_and_a_5xx_create_is_not_resent(comms: Comms, tmp_path: Path) -> None:
    project = comms.project(tmp_path, channel=False)
    comms.statuspage.fail_next(1, 429, {"error": "Rate limit exceeded"}, retry_after="2", method="POST")
    project.ok("incident", "open", "-s", "P2", "-t", "Slow replies", "--public")
    assert comms.sleeps == [2.0]
    assert comms.statuspage.component_status == {COMPONENT: "degraded_performance"}

    comms.statuspage.fail_next(1, 500, {"error": "Internal error"}, method="POST")
    opened = project.ok("incident", "open", "-s", "P3", "-t", "Typo", "--public")
    assert "  ! Statuspage refused POST /pages/hvbpage01/incidents: HTTP 500: Internal error\n" in opened.out
    assert len(comms.statuspage.calls("POST")) == 3  # 429 + retry, then the 500 alone: it may have been created


def test_a_p3_lists_components_but_leaves_their_status(comms: Comms, tmp_path: Path) -> None:
    project = comms.project(tmp_path, channel=False)
    project.ok("incident", "open", "-s", "P3", "-t", "Typo in a greeting", "--public", "--component", "bot")
    (created,) = comms.statuspage.calls("POST")
    assert created.body["incident"]["component_ids"] == [COMPONENT]
    assert "components" not in created.body["incident"]
    assert comms.statuspage.component_status == {COMPONENT: "operational"}
