"""Notifications wired into runs: Slack, PagerDuty and a webhook hear of every start and end, secrets stay hidden."""

from __future__ import annotations

from typing import Any

import pytest

from opsctl.notify import deliver
from opsctl.notify.deliver import RetryPolicy
from tests.e2e.policy.support import ACTOR, OUTSIDE_FREEZE, Project, Receiver, output
from tests.support.incidents import record_open_incident

ROUTING_KEY = "R0uTiNgKeY0123456789abcdef012345"
SLACK_PATH = "/services/T0001/B0001/s3cr3tS1ackPath"
WEBHOOK_PATH = "/opsctl/wh-s3cr3t-token-123"
SECRETS = (ROUTING_KEY, "s3cr3tS1ackPath", "wh-s3cr3t-token-123")
TS = "2026-12-20T12:00:00Z"  # the injected clock (OUTSIDE_FREEZE)


@pytest.fixture
def notified(project: Project, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Project:
    project.configure(
        notify={
            "slack": {"webhook_env": "HVB_SLACK_HOOK"},
            "pagerduty": {"routing_key_env": "HVB_PD_KEY", "api_url": receiver.url},
            "webhook": {"url_env": "HVB_WEBHOOK"},
        }
    )
    monkeypatch.setenv("HVB_SLACK_HOOK", receiver.url + SLACK_PATH)
    monkeypatch.setenv("HVB_PD_KEY", ROUTING_KEY)
    monkeypatch.setenv("HVB_WEBHOOK", receiver.url + WEBHOOK_PATH)
    return project


def _no_secret(project: Project, *results: Any) -> None:
    texts = [project.audit_text()] + [r.stdout + r.stderr for r in results]
    for secret in SECRETS:
        assert [t for t in texts if secret in t] == [], secret


def _webhook(receiver: Receiver) -> dict[str, dict[str, Any]]:
    """The webhook's messages by event (each event once)."""
    posts = receiver.posts(WEBHOOK_PATH)
    by_event = {p["event"]: p for p in posts}
    assert len(by_event) == len(posts), [p["event"] for p in posts]
    return by_event


def _message(event: str, env: str, before: str | None, after: str, run: str, **overrides: Any) -> dict[str, Any]:
    """The generic webhook body opsctl should send (DESIGN: env, images, actor, run, change type, incident)."""
    from opsctl.notify import EVENTS

    style = EVENTS[event]
    images = " → ".join(i for i in (before, after) if i)
    body = {
        "source": "opsctl",
        "event": event,
        "outcome": style.outcome,
        "title": style.title,
        "headline": f"{style.title}: hotel-voice-bot {env} {images}",
        "service": "hotel-voice-bot",
        "env": env,
        "protected": env == "production",
        "image_before": before,
        "image_after": after,
        "actor": ACTOR,
        "run": run,
        "duration": "0ms",
        "change_type": "normal",
        "incident": None,
        "reason": None,
        "summary": None,
        "text": None,
        "ts": TS,
    }
    body.update(overrides)
    return body


def _without_details(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "details"}


def test_a_good_deploy_announces_its_start_and_its_success(notified: Project, receiver: Receiver) -> None:
    result = notified.deploy("staging", "hvb:1.8.0", clock=OUTSIDE_FREEZE)

    assert result.exit_code == 0, output(result)
    run = notified.last_run()
    sent = _webhook(receiver)
    assert list(sent) == ["deploy.started", "window", "deploy.succeeded"]
    started = sent["deploy.started"]
    assert (started["env"], started["image_after"], started["actor"], started["run"]) == (
        "staging",
        "hvb:1.8.0",
        ACTOR,
        run,
    )
    slack = receiver.posts(SLACK_PATH)
    assert [m["text"] for m in slack] == [
        "🚀 Deploy started: hotel-voice-bot staging hvb:1.8.0",
        "📣 Deployment window: hotel-voice-bot staging hvb:1.7.0 → hvb:1.8.0",
        "✅ Deploy succeeded: hotel-voice-bot staging hvb:1.7.0 → hvb:1.8.0",
    ]
    assert receiver.posts("/v2/") == []  # staging is not protected: no PagerDuty change events
    _no_secret(notified, result)
    # The change type belongs in every message (DESIGN: env, images, actor, run, change type, incident).
    assert started["change_type"] == "normal"
    summary = "deploy succeeded: hvb:2 (hvb:1.8.0) verified"
    assert _without_details(sent["deploy.succeeded"]) == _message(
        "deploy.succeeded", "staging", "hvb:1.7.0", "hvb:1.8.0", run, summary=summary
    )
    fields = [f["text"] for f in slack[-1]["attachments"][0]["blocks"][0]["fields"]]
    assert fields == [
        "*Environment*\nstaging",
        "*Image*\n`hvb:1.7.0` → `hvb:1.8.0`",
        f"*Actor*\n{ACTOR}",
        f"*Run*\n{run}",
        "*Duration*\n0ms",
        "*Change type*\nnormal",
    ]


def test_a_rolled_back_deploy_announces_the_failure_and_the_rollback(notified: Project, receiver: Receiver) -> None:
    result = notified.deploy("staging", "hvb:1.9.0-bad", clock=OUTSIDE_FREEZE)

    assert result.exit_code == 1, output(result)
    run = notified.last_run()
    summary = notified.run_end(run)["summary"]
    sent = _webhook(receiver)
    assert list(sent) == ["deploy.started", "window", "deploy.failed", "rollback.succeeded"]
    _no_secret(notified, result)
    rollback = sent["rollback.succeeded"]
    assert (rollback["image_before"], rollback["image_after"], rollback["summary"]) == (
        "hvb:1.9.0-bad",
        "hvb:1.7.0",
        summary,
    )
    # "Deploy failed" must name the image that failed, not the release the rollback put back.
    failed = sent["deploy.failed"]
    assert (failed["image_before"], failed["image_after"], failed["summary"]) == ("hvb:1.7.0", "hvb:1.9.0-bad", summary)
    assert _without_details(failed) == _message(
        "deploy.failed", "staging", "hvb:1.7.0", "hvb:1.9.0-bad", run, summary=summary
    )
    expected = _message("rollback.succeeded", "staging", "hvb:1.9.0-bad", "hvb:1.7.0", run, summary=summary)
    del expected["change_type"]  # the automatic rollback's own change type is not pinned here
    assert {k: v for k, v in _without_details(rollback).items() if k != "change_type"} == expected


def test_a_production_hotpatch_is_a_pagerduty_change_event(notified: Project, receiver: Receiver) -> None:
    record_open_incident(notified.config_path, "INC-42", env="production")  # a hot-patch needs an open incident
    result = notified.hotpatch(
        "production", "hvb:1.8.1", "--incident", "INC-42", "--reason", "booking crash", clock=OUTSIDE_FREEZE
    )

    assert result.exit_code == 0, output(result)
    run = notified.last_run()
    summary = "hot-patch succeeded: hvb-prod:2 (hvb:1.8.1) verified"
    assert receiver.posts("/v2/enqueue") == []  # nobody is paged for a change that went well
    _no_secret(notified, result)
    assert receiver.posts("/v2/change/enqueue") == [
        {
            "routing_key": ROUTING_KEY,
            "payload": {
                "summary": f"Deploy succeeded: hotel-voice-bot production hvb:1.7.0 → hvb:1.8.1 by {ACTOR}",
                "timestamp": TS,
                "source": "opsctl/hotel-voice-bot/production",
                "custom_details": {
                    "event": "deploy.succeeded",
                    "env": "production",
                    "image_before": "hvb:1.7.0",
                    "image_after": "hvb:1.8.1",
                    "actor": ACTOR,
                    "run": run,
                    "duration": "0ms",
                    "change_type": "emergency",
                    "incident": "INC-42",
                    "reason": "booking crash",
                    "summary": summary,
                    "text": None,
                },
            },
        }
    ]
    slack = receiver.posts(SLACK_PATH)[-1]
    fields = [f["text"] for f in slack["attachments"][0]["blocks"][0]["fields"]]
    assert fields[-2:] == ["*Change type*\nemergency", "*Incident*\nINC-42"]


def test_a_failed_automatic_rollback_pages_someone(notified: Project, receiver: Receiver) -> None:
    notified.staging_bot.configure(dependencies={"openai": "down"})  # whatever runs, the bot cannot answer guests

    result = notified.deploy("staging", "hvb:1.8.0", clock=OUTSIDE_FREEZE)

    assert result.exit_code == 3, output(result)
    run = notified.last_run()
    (alert,) = receiver.posts("/v2/enqueue")
    assert alert["routing_key"] == ROUTING_KEY
    assert (alert["event_action"], alert["dedup_key"]) == ("trigger", f"opsctl/hotel-voice-bot/staging/{run}")
    assert alert["payload"]["severity"] == "critical"
    assert alert["payload"]["summary"] == (
        "Rollback failed: hotel-voice-bot staging hvb:1.8.0 → hvb:1.7.0 - the automatic rollback failed; "
        "the service needs a human"
    )
    assert list(_webhook(receiver))[-2:] == ["deploy.failed", "rollback.failed"]
    _no_secret(notified, result)


def test_undeliverable_notifications_never_fail_the_deploy(
    notified: Project, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deliver, "DEFAULT_POLICY", RetryPolicy(attempts=2, backoff=0.01, sleep=lambda _: None))
    monkeypatch.delenv("HVB_SLACK_HOOK")  # Slack cannot even be tried ...
    receiver.post_status = 500  # ... and the webhook answers 500 every time

    result = notified.deploy("staging", "hvb:1.8.0", clock=OUTSIDE_FREEZE)

    assert result.exit_code == 0, output(result)
    assert notified.image("staging") == "hvb:1.8.0"
    events = notified.events(notified.last_run())
    assert notified.run_end(notified.last_run())["status"] == "succeeded"
    warned = [e["summary"] for e in events if e["step"] == "notify"]
    assert "Slack: HVB_SLACK_HOOK is not set: export the Slack incoming-webhook URL" in warned
    assert (
        'could not deliver deploy.succeeded to the webhook after 2 attempt(s): HTTP 500: {"status": "error"}' in warned
    )
    assert {e["status"] for e in events if e["step"] == "notify"} == {"warned"}
    assert len(receiver.posts(WEBHOOK_PATH)) == 6  # started, window, succeeded: two attempts each
    _no_secret(notified, result)
