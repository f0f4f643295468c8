"""Issue 16 end to end: ``opsctl`` as a subprocess against PagerDuty, Statuspage and Slack stand-ins on 127.0.0.1.

``incident open --severity P1 --public`` pages with the severity and the
incident id as dedup key, opens a Statuspage incident with partial_outage and
a Slack channel with the on-call invited; ``ack`` and ``resolve`` follow
through; ``oncall --at`` names the rotation's people; no token reaches any
output or the audit log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.pagerduty_api import ROUTING_KEY, PagerDutyApi
from tests.support.slack_api import BOT_TOKEN, SlackApi
from tests.support.statuspage_api import API_KEY, COMPONENT, PAGE_ID, StatuspageApi

SECRETS = {"E2E_PD_KEY": ROUTING_KEY, "E2E_SP_KEY": API_KEY, "E2E_SLACK_BOT": BOT_TOKEN}


@pytest.fixture
def stand_ins() -> Iterator[tuple[PagerDutyApi, StatuspageApi, SlackApi]]:
    pd, page, slack = PagerDutyApi(), StatuspageApi(), SlackApi()
    for server in (pd, page, slack):
        server.start()
    for email in ("ana@example.com", "ben@example.com", "chris@example.com"):
        slack.add_user(email)
    try:
        yield pd, page, slack
    finally:
        for server in (pd, page, slack):
            server.stop()


def write_project(tmp_path: Path, pd: PagerDutyApi, page: StatuspageApi, slack: SlackApi) -> Path:
    config = {
        "service": "hotel-voice-bot",
        "environments": {"production": {"protected": True, "platform": {"kind": "fly", "app": "hvb"}}},
        "contacts": {"tech_lead": {"email": "tech-lead@example.com"}, "pm": {"email": "pm@example.com"}},
        "oncall": {
            "rotation": {
                "timezone": "Europe/Berlin",
                "handoff": "mon 09:00",
                "people": ["ana@example.com", "ben@example.com", "chris@example.com"],
            },
            "escalation": "tech_lead",
        },
        "notify": {
            "pagerduty": {"routing_key_env": "E2E_PD_KEY", "api_url": pd.url},
            "statuspage": {
                "page_id": PAGE_ID,
                "api_key_env": "E2E_SP_KEY",
                "components": {"bot": COMPONENT},
                "api_url": page.url,
            },
            "slack": {"bot_token_env": "E2E_SLACK_BOT", "api_url": slack.url},
        },
    }
    path = tmp_path / "opsctl.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCTL_")}
    env.update(SECRETS, OPSCTL_ACTOR="oncall@example.com", COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "opsctl", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_open_p1_public_ack_resolve_and_oncall(
    tmp_path: Path, stand_ins: tuple[PagerDutyApi, StatuspageApi, SlackApi]
) -> None:
    pd, page, slack = stand_ins
    config = write_project(tmp_path, pd, page, slack)
    outputs: list[str] = []

    opened = run(config, "--json", "incident", "open", "--severity", "P1", "--title", "Booking calls fail",
                 "--env", "production", "--public")  # fmt: skip
    outputs += [opened.stdout, opened.stderr]
    assert opened.returncode == 0, opened.stdout + opened.stderr
    data = json.loads(opened.stdout)
    assert data["incident"]["id"] == "INC-1"
    assert [(d["channel"], d["status"]) for d in data["deliveries"]] == [
        ("slack", "sent"),
        ("slack", "skipped"),
        ("pagerduty", "sent"),
        ("statuspage", "sent"),
    ]

    (trigger,) = pd.events()
    assert trigger["routing_key"] == ROUTING_KEY
    assert (trigger["event_action"], trigger["dedup_key"]) == ("trigger", "INC-1")
    assert trigger["payload"]["severity"] == "error"  # P1: high urgency
    assert trigger["payload"]["custom_details"]["urgency"] == "high"
    assert trigger["links"] == [
        {"href": "https://slack.com/app_redirect?channel=C000001", "text": "Slack channel of INC-1"}
    ]
    assert pd.incidents["INC-1"].urgency == "high"
    (created,) = page.calls("POST", f"/pages/{PAGE_ID}/incidents")
    assert created.body["incident"]["components"] == {COMPONENT: "partial_outage"}
    assert page.component_status == {COMPONENT: "partial_outage"}
    channel = slack.channel_named("inc-1-booking-calls-fail")
    assert len(channel["members"]) == 2  # the primary and the secondary on call now
    assert channel["pins"]

    acked = run(config, "incident", "ack", "INC-1")
    resolved = run(config, "incident", "resolve", "INC-1", "--cause", "bad deploy")
    outputs += [acked.stdout, acked.stderr, resolved.stdout, resolved.stderr]
    assert (acked.returncode, resolved.returncode) == (0, 0), acked.stderr + resolved.stderr
    assert [e["event_action"] for e in pd.events()] == ["trigger", "acknowledge", "resolve"]
    assert pd.incidents["INC-1"].status == "resolved"
    assert page.component_status == {COMPONENT: "operational"}
    assert page.incidents["spinc0001"]["status"] == "resolved"
    assert "post-mortem due by" in resolved.stdout

    # The rotation counts weeks from Monday 1970-01-05 09:00 Berlin: week 2969 (from 2026-11-30) is 2969 % 3 = 2.
    oncall = run(config, "--json", "oncall", "--at", "2026-12-02T12:00:00+01:00")
    outputs += [oncall.stdout, oncall.stderr]
    assert oncall.returncode == 0, oncall.stderr
    who = json.loads(oncall.stdout)
    assert (who["primary"][0]["email"], who["secondary"][0]["email"], who["escalation"]["email"]) == (
        "chris@example.com",
        "ana@example.com",
        "tech-lead@example.com",
    )
    assert who["next_handoff"] == "2026-12-07T08:00:00.000Z"

    verify = run(config, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    audit = (tmp_path / ".opsctl" / "audit.jsonl").read_text()
    for secret in SECRETS.values():
        for text in [*outputs, audit]:
            assert secret not in text


def test_pagerduty_down_still_opens_the_incident_exit_1(
    tmp_path: Path, stand_ins: tuple[PagerDutyApi, StatuspageApi, SlackApi]
) -> None:
    pd, page, slack = stand_ins
    config = write_project(tmp_path, pd, page, slack)
    pd.stop()
    failed = run(config, "incident", "open", "-s", "P0", "-t", "Every call fails", "--no-channel")
    assert failed.returncode == 1
    (line,) = failed.stderr.splitlines()
    assert line.startswith("error: INC-1 is opened and recorded, but the page failed (")
    assert line.endswith("): page the on-call by hand (see `opsctl oncall`)")
    listed = run(config, "--json", "incident", "list")
    assert [i["id"] for i in json.loads(listed.stdout)] == ["INC-1"]
