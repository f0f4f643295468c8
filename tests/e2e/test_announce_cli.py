"""Issue 16 (email, deployment windows) end to end: moto ECS, the sandbox bots, a real SMTP server, a Slack receiver.

- a production deploy without an announcement fails the window rule; after
  ``opsctl announce`` it passes, and the start notice threads on the announcement;
- no SMTP password, user or webhook secret reaches any output or audit line;
- SMTP unreachable while opening an incident: it is still opened and recorded,
  and the command fails loudly naming it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsctl.notify import deliver
from tests.e2e.policy.conftest import _isolated, project, receiver
from tests.e2e.policy.support import Project, Receiver, error_line, output, step_events
from tests.notify.support import Sleeps
from tests.support.moto_server import aws, moto_server
from tests.support.smtp_server import PASSWORD, USER, SmtpServer, free_port

__all__ = ["_isolated", "aws", "moto_server", "project", "receiver"]  # the policy suite's fixtures, used here

BEFORE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DURING = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
SLACK_PATH = "/services/T0001/B0001/s3cr3tS1ackPath"
SECRETS = (PASSWORD, USER, "s3cr3tS1ackPath")
CONTACTS = {"devops": {"email": "devops@example.com"}, "tech_lead": {"email": "tech-lead@example.com"}}
REFUSED = (
    "error: no announced deployment window for production covers 2026-12-01 14:30 UTC; a normal change to "
    "protected production needs one: announce it first: opsctl announce production --window START/END"
)


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tmp_path, tls=True, login=(USER, PASSWORD)) as server:
        yield server


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deliver, "DEFAULT_POLICY", deliver.RetryPolicy(sleep=Sleeps()))


def email(port: int, ca_file: Path | None) -> dict[str, object]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "username_env": "HVB_SMTP_USER",
        "password_env": "HVB_SMTP_PASSWORD",
        "from": "opsctl@example.com",
        "to": ["devops", "tech_lead"],
        "timeout": "2s",
        **({"ca_file": str(ca_file)} if ca_file else {}),
    }


@pytest.fixture
def announcing(project: Project, smtp: SmtpServer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The policy suite's project with stakeholder email and a Slack webhook."""
    project.configure(
        contacts=CONTACTS,
        notify={"email": email(smtp.port, smtp.ca_file), "slack": {"webhook_env": "HVB_SLACK_HOOK"}},
    )
    monkeypatch.setenv("HVB_SMTP_USER", USER)
    monkeypatch.setenv("HVB_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("HVB_SLACK_HOOK", receiver.url + SLACK_PATH)
    return project


def no_secret(project: Project, *texts: str) -> None:
    for text in (project.audit_text(), *texts):
        for secret in SECRETS:
            assert secret not in text


def test_a_production_deploy_without_an_announcement_fails_with_one_passes(
    announcing: Project, smtp: SmtpServer, receiver: Receiver
) -> None:
    refused = announcing.deploy("production", "hvb:1.8.0", clock=DURING)

    assert refused.exit_code == 1, output(refused)
    assert error_line(refused) == REFUSED
    assert announcing.image("production") == "hvb:1.7.0"  # refused before any change
    assert announcing.run_end(announcing.last_run())["summary"] == REFUSED.removeprefix("error: ")

    announced = announcing.invoke(
        "announce", "production", "--window", "2026-12-01T14:00/15:00", "--image", "hvb:1.8.0",
        "--note", "booking flow v2", clock=BEFORE,
    )  # fmt: skip
    assert announced.exit_code == 0, output(announced)
    (notice,) = smtp.messages
    assert notice.recipients == ["devops@example.com", "tech-lead@example.com"]

    done = announcing.deploy("production", "hvb:1.8.0", clock=DURING)

    assert done.exit_code == 0, output(done)
    assert announcing.image("production") == "hvb:1.8.0"
    events = announcing.events(announcing.last_run())
    (policy,) = step_events(events, "policy.window")
    assert policy["summary"].startswith("window 2026-12-01 14:00-15:00 UTC for hvb:1.8.0 announced by ")
    (item,) = [e for e in step_events(events, "pre-deploy/stakeholders") if e["status"] != "started"]
    assert item["status"] == "passed"
    assert item["summary"] == policy["summary"]
    assert item["detail"]["announcement"]["image"] == "hvb:1.8.0"
    # The start notice replies in the announcement's thread; Slack heard both.
    starting = smtp.messages[1].message
    assert starting["In-Reply-To"] == notice.message["Message-ID"]
    assert starting["X-Opsctl-Event"] == "window"
    assert [p["text"] for p in receiver.posts(SLACK_PATH)] == [
        "🚀 Deploy started: hotel-voice-bot production hvb:1.8.0",  # the refused run (refused by policy, as ever)
        "📣 Deployment window: hotel-voice-bot production hvb:1.8.0",  # the announcement
        "🚀 Deploy started: hotel-voice-bot production hvb:1.8.0",
        "📣 Deployment window: hotel-voice-bot production hvb:1.7.0 → hvb:1.8.0",  # the start notice
        "✅ Deploy succeeded: hotel-voice-bot production hvb:1.7.0 → hvb:1.8.0",
    ]
    no_secret(announcing, refused.stdout, refused.stderr, announced.stdout, announced.stderr, done.stdout, done.stderr)


def test_another_image_than_announced_is_refused(announcing: Project) -> None:
    announced = announcing.invoke(
        "announce", "production", "--window", "2026-12-01T14:00/15:00", "--image", "hvb:1.8.0", clock=BEFORE
    )
    assert announced.exit_code == 0, output(announced)

    refused = announcing.deploy("production", "hvb:1.9.0", clock=DURING)

    assert refused.exit_code == 1, output(refused)
    assert error_line(refused) == (
        "error: the window 2026-12-01 14:00-15:00 UTC was announced for hvb:1.8.0, not hvb:1.9.0; a normal change "
        "to protected production needs one: announce it first: opsctl announce production --window START/END"
    )


def test_staging_only_warns_and_the_deploy_goes_on(announcing: Project) -> None:
    done = announcing.deploy("staging", "hvb:1.8.0", clock=DURING)

    assert done.exit_code == 0, output(done)
    events = announcing.events(announcing.last_run())
    (item,) = [e for e in step_events(events, "pre-deploy/stakeholders") if e["status"] != "started"]
    assert (item["status"], item["summary"]) == (
        "warned",
        "no announced deployment window for staging covers 2026-12-01 14:30 UTC (not required here; announce it "
        "first: opsctl announce staging --window START/END)",
    )


def test_smtp_unreachable_while_opening_an_incident_still_opens_it_loudly(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens there
    project.configure(contacts=CONTACTS, notify={"email": email(port, None)})
    monkeypatch.setenv("HVB_SMTP_USER", USER)
    monkeypatch.setenv("HVB_SMTP_PASSWORD", PASSWORD)

    opened = project.invoke(
        "--json", "incident", "open", "--severity", "P1", "--title", "booking calls fail", "--env", "production",
        clock=DURING,
    )  # fmt: skip

    assert opened.exit_code == 1, output(opened)
    data = json.loads(opened.stdout)
    assert data["incident"]["id"] == "INC-1"
    assert [(d["channel"], d["status"], d["attempts"]) for d in data["deliveries"]] == [("email", "warned", 3)]
    summary = (
        "could not deliver incident.opened by email to devops, tech_lead after 3 attempt(s): "
        f"127.0.0.1:{port}: connection refused"
    )
    assert json.loads(opened.stderr) == {
        "error": f"INC-1 is opened and recorded, but the stakeholders' email failed ({summary})",
        "exit_code": 1,
    }
    opened_events = [e for e in project.events() if e.get("step") == "incident" and e["status"] == "opened"]
    assert [e["incident"] for e in opened_events] == ["INC-1"]
    (mail_event,) = [e for e in project.events() if e.get("step") == "notify"]
    assert (mail_event["channel"], mail_event["status"], mail_event["to"]) == (
        "email",
        "warned",
        ["devops", "tech_lead"],
    )
    no_secret(project, opened.stdout, opened.stderr)
