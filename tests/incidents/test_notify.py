"""Incident notifications: the exact PagerDuty and Slack payloads, urgency by severity, one alert per incident."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import respx

from tests.incidents.support import BOB, Project, make_project
from tests.notify.support import PD_API, ROUTING_KEY, SLACK_URL, assert_no_secret

NOTIFY = {
    "slack": {"webhook_env": "HVB_SLACK_HOOK", "channel": "#incidents"},
    "pagerduty": {"routing_key_env": "HVB_PD_KEY", "api_url": PD_API},
}
DEDUP = "INC-1"  # the incident id itself (issue 16): PagerDuty's incident key is opsctl's id


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("HVB_SLACK_HOOK", SLACK_URL)
    monkeypatch.setenv("HVB_PD_KEY", ROUTING_KEY)
    return make_project(tmp_path, notify=NOTIFY)


def bodies(route: respx.Route) -> list[Any]:
    return [json.loads(call.request.content) for call in route.calls]


def slack_fields(body: dict[str, Any]) -> list[str]:
    return [f["text"] for f in body["attachments"][0]["blocks"][0]["fields"]]


@respx.mock
def test_p0_pages_with_high_urgency_and_the_same_alert_is_acknowledged_and_resolved(project: Project) -> None:
    pagerduty = respx.post(f"{PD_API}/v2/enqueue").respond(202, json={"status": "success"})
    slack = respx.post(SLACK_URL).respond(200, text="ok")

    opened = project.ok("incident", "open", "-s", "P0", "-t", "Every call fails", "--env", "production")
    project.clock.at(4)
    project.ok("incident", "ack", "INC-1", actor=BOB)
    project.clock.at(35)
    resolved = project.ok("incident", "resolve", "INC-1", "--cause", "bad deploy <1.9.0> & pool", actor=BOB)

    assert bodies(pagerduty) == [
        {
            "routing_key": ROUTING_KEY,
            "event_action": "trigger",
            "dedup_key": DEDUP,
            "client": "opsctl",
            "payload": {
                "summary": "[P0] INC-1: Every call fails (hotel-voice-bot production)",
                "source": "opsctl/hotel-voice-bot/production",
                "severity": "critical",
                "timestamp": "2026-11-27T10:00:00Z",
                "component": "hotel-voice-bot",
                "group": "production",
                "class": "incident P0",
                "custom_details": {
                    "incident": "INC-1",
                    "severity": "P0",
                    "urgency": "high",
                    "title": "Every call fails",
                    "env": "production",
                    "opened_by": "alice@example.com",
                    "respond_within": "immediate",
                    "respond_by": "2026-11-27T10:05:00.000Z",
                },
            },
        },
        {"routing_key": ROUTING_KEY, "event_action": "acknowledge", "dedup_key": DEDUP},
        {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": DEDUP},
    ]
    first, _, last = bodies(slack)
    assert first == {
        "channel": "#incidents",
        "text": "🚨 Incident opened: INC-1 [P0] Every call fails",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "emoji": True, "text": "🚨 Incident opened · INC-1 · P0"},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Every call fails*"}},
        ],
        "attachments": [
            {
                "color": "#E01E5A",
                "blocks": [
                    {
                        "type": "section",
                        "fields": [
                            {"type": "mrkdwn", "text": "*Severity*\nP0 (critical, high urgency)"},
                            {"type": "mrkdwn", "text": "*Environment*\nproduction"},
                            {"type": "mrkdwn", "text": "*Respond within*\nimmediate"},
                            {"type": "mrkdwn", "text": "*Actor*\nalice@example.com"},
                        ],
                    },
                    {
                        "type": "context",
                        "elements": [
                            {
                                "type": "mrkdwn",
                                "text": "opsctl · hotel-voice-bot · incident.opened · opsctl incident show INC-1",
                            }
                        ],
                    },
                ],
            }
        ],
    }
    assert last["text"] == "✅ Incident resolved: INC-1 [P0] Every call fails"
    assert slack_fields(last) == [
        "*Severity*\nP0 (critical, high urgency)",
        "*Environment*\nproduction",
        "*Actor*\nbob@example.com",
        "*Open for*\n35m00s",
    ]
    cause = {"type": "mrkdwn", "text": "*Cause*: bad deploy &lt;1.9.0&gt; &amp; pool"}
    assert last["attachments"][0]["blocks"][1] == {"type": "section", "text": cause}

    assert "  ✓ PagerDuty alert event accepted incident.opened (HTTP 202)\n" in opened.out
    assert "  ✓ Slack accepted incident.opened (HTTP 200)\n" in opened.out
    assert "  ✓ PagerDuty alert event accepted incident.resolved (HTTP 202)\n" in resolved.out
    timeline = project.ok("--json", "incident", "show", "INC-1").json()["timeline"]
    assert [(e["kind"], e["what"]) for e in timeline if e["kind"] == "notify"][:2] == [
        ("notify", "Slack accepted incident.opened (HTTP 200)"),
        ("notify", "PagerDuty alert event accepted incident.opened (HTTP 202)"),
    ]
    assert_no_secret(project.audit_path.read_text(), opened.out, resolved.out)


@pytest.mark.parametrize(
    ("severity", "pagerduty_severity", "urgency"),
    [("P0", "critical", "high"), ("P1", "error", "high"), ("P2", "warning", "low"), ("P3", "info", "low")],
)
@respx.mock
def test_urgency_follows_the_severity(project: Project, severity: str, pagerduty_severity: str, urgency: str) -> None:
    pagerduty = respx.post(f"{PD_API}/v2/enqueue").respond(202, json={"status": "success"})
    respx.post(SLACK_URL).respond(200, text="ok")

    project.ok("incident", "open", "-s", severity, "-t", "Slow replies")  # no --env: service-wide

    (body,) = bodies(pagerduty)
    assert body["payload"]["severity"] == pagerduty_severity
    assert body["payload"]["custom_details"]["urgency"] == urgency
    assert body["payload"]["source"] == "opsctl/hotel-voice-bot/-"
    assert "group" not in body["payload"]


@respx.mock
def test_a_refused_page_opens_the_incident_and_fails_loudly(project: Project) -> None:
    # Issue 16: the incident is recorded and the other channels told, but nobody was paged: exit 1 naming it.
    respx.post(f"{PD_API}/v2/enqueue").respond(400, json={"message": "Invalid routing key"})
    respx.post(SLACK_URL).respond(200, text="ok")

    opened = project.run("incident", "open", "-s", "P1", "-t", "Calls drop")
    assert opened.code == 1
    assert opened.error() == (
        "error: INC-1 is opened and recorded, but the page failed (PagerDuty alert event refused incident.opened: "
        'HTTP 400: {"message":"Invalid routing key"}): page the on-call by hand (see `opsctl oncall`)'
    )

    refused = '  ! PagerDuty alert event refused incident.opened: HTTP 400: {"message":"Invalid routing key"}\n'
    assert refused in opened.out
    warned = [e for e in project.events(step="notify") if e["status"] == "warned"]
    assert [(e["incident"], e["channel"], e["http_status"]) for e in warned] == [("INC-1", "pagerduty", 400)]
    assert [e["status"] for e in project.events()] == ["opened"]


@respx.mock
def test_no_notify_section_sends_nothing(tmp_path: Path) -> None:
    route = respx.route().respond(200)
    project = make_project(tmp_path)
    assert project.ok("--json", "incident", "open", "-s", "P0", "-t", "x").json()["deliveries"] == []
    assert not route.called
