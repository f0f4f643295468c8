"""opsctl.notify.send: exact payloads per channel, retries, warnings, redaction, templates."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from opsctl.errors import BadInput
from opsctl.notify import send
from tests.notify.support import (
    PD_API,
    ROUTING_KEY,
    SLACK_URL,
    WEBHOOK_URL,
    Sleeps,
    assert_no_secret,
    audit_text,
    fast_policy,
    notify_ctx,
)

DEPLOY = {"image_before": "hvb:1.7.0", "image_after": "hvb:1.8.0", "duration": 95, "change_type": "normal"}


def body(route: respx.Route, index: int = -1) -> object:
    return json.loads(route.calls[index].request.content)


@respx.mock
def test_slack_block_kit_message_is_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={"slack": {"webhook_env": "HVB_SLACK_HOOK"}})
    route = respx.post(SLACK_URL).respond(200, text="ok")

    results = send(ctx, "deploy.succeeded", DEPLOY, policy=fast_policy(Sleeps()))

    assert [(r.channel, r.status, r.attempts, r.http_status) for r in results] == [("slack", "sent", 1, 200)]
    assert results[0].summary == "Slack accepted deploy.succeeded (HTTP 200)"
    assert route.calls[0].request.headers["content-type"] == "application/json"
    assert body(route) == {
        "text": "✅ Deploy succeeded: hotel-voice-bot staging hvb:1.7.0 → hvb:1.8.0",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "emoji": True, "text": "✅ Deploy succeeded · staging"}}
        ],
        "attachments": [
            {
                "color": "#2EB886",
                "blocks": [
                    {
                        "type": "section",
                        "fields": [
                            {"type": "mrkdwn", "text": "*Environment*\nstaging"},
                            {"type": "mrkdwn", "text": "*Image*\n`hvb:1.7.0` → `hvb:1.8.0`"},
                            {"type": "mrkdwn", "text": "*Actor*\ntester@example.com"},
                            {"type": "mrkdwn", "text": f"*Run*\n{ctx.run_id}"},
                            {"type": "mrkdwn", "text": "*Duration*\n1m35s"},
                            {"type": "mrkdwn", "text": "*Change type*\nnormal"},
                        ],
                    },
                    {
                        "type": "context",
                        "elements": [{"type": "mrkdwn", "text": "opsctl · hotel-voice-bot · deploy.succeeded"}],
                    },
                ],
            }
        ],
    }


@respx.mock
def test_slack_failure_colour_channel_and_escaped_free_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notify = {"slack": {"webhook_env": "HVB_SLACK_HOOK", "channel": "#deploys"}}
    ctx = notify_ctx(tmp_path, monkeypatch, notify=notify, params={"image": "hvb:1.8.0", "reason": "p95 <2s> & up"})
    route = respx.post(SLACK_URL).respond(200, text="ok")

    send(ctx, "deploy.failed", {"summary": "health check failed"}, text="see #inc", policy=fast_policy(Sleeps()))

    sent = body(route)
    assert isinstance(sent, dict)
    assert sent["channel"] == "#deploys"
    assert sent["text"] == "❌ Deploy failed: hotel-voice-bot staging hvb:1.8.0"
    attachment = sent["attachments"][0]
    assert attachment["color"] == "#E01E5A"
    assert [b["text"]["text"] for b in attachment["blocks"][1:4]] == [
        "health check failed",
        "Reason: p95 &lt;2s&gt; &amp; up",
        "see #inc",
    ]


@respx.mock
def test_pagerduty_change_event_for_a_protected_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notify = {"pagerduty": {"routing_key_env": "HVB_PD_KEY", "api_url": PD_API}}
    ctx = notify_ctx(tmp_path, monkeypatch, notify=notify, env="production", params={"incident": "INC-42"})
    change = respx.post(f"{PD_API}/v2/change/enqueue").respond(202, json={"status": "success"})
    alert = respx.post(f"{PD_API}/v2/enqueue").respond(202, json={"status": "success"})

    results = send(ctx, "deploy.succeeded", DEPLOY, policy=fast_policy(Sleeps()))

    assert [(r.status, r.kind) for r in results] == [("sent", "change event")]
    assert not alert.called
    assert body(change) == {
        "routing_key": ROUTING_KEY,
        "payload": {
            "summary": "Deploy succeeded: hotel-voice-bot production hvb:1.7.0 → hvb:1.8.0 by tester@example.com",
            "timestamp": "2026-11-27T10:00:00Z",
            "source": "opsctl/hotel-voice-bot/production",
            "custom_details": {
                "event": "deploy.succeeded",
                "env": "production",
                "image_before": "hvb:1.7.0",
                "image_after": "hvb:1.8.0",
                "actor": "tester@example.com",
                "run": ctx.run_id,
                "duration": "1m35s",
                "change_type": "normal",
                "incident": "INC-42",
                "reason": None,
                "summary": None,
                "text": None,
            },
        },
    }


@respx.mock
def test_pagerduty_skips_changes_to_unprotected_environments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notify = {"pagerduty": {"routing_key_env": "HVB_PD_KEY", "api_url": PD_API}}
    ctx = notify_ctx(tmp_path, monkeypatch, notify=notify, env="staging")
    route = respx.post(url__startswith=PD_API).respond(202)

    results = send(ctx, "deploy.succeeded", DEPLOY)

    assert [(r.status, r.summary) for r in results] == [
        ("skipped", "PagerDuty takes no deploy.succeeded message for this environment")
    ]
    assert not route.called


@respx.mock
def test_failed_rollback_pages_with_a_critical_alert_deduplicated_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify = {"pagerduty": {"routing_key_env": "HVB_PD_KEY", "api_url": PD_API}}
    ctx = notify_ctx(tmp_path, monkeypatch, notify=notify, env="production")
    ctx.state.release, ctx.state.previous = {"image": "hvb:1.8.0"}, {"image": "hvb:1.7.0"}
    change = respx.post(f"{PD_API}/v2/change/enqueue").respond(202)
    alert = respx.post(f"{PD_API}/v2/enqueue").respond(202, json={"dedup_key": "x"})

    results = send(ctx, "rollback.failed", {"summary": "ECS service did not stabilise"}, policy=fast_policy(Sleeps()))

    assert [(r.kind, r.status) for r in results] == [("change event", "sent"), ("alert event", "sent")]
    assert change.call_count == 1
    assert body(alert) == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": f"opsctl/hotel-voice-bot/production/{ctx.run_id}",
        "client": "opsctl",
        "payload": {
            "summary": "Rollback failed: hotel-voice-bot production hvb:1.8.0 → hvb:1.7.0"
            " - the automatic rollback failed; the service needs a human",
            "source": "opsctl/hotel-voice-bot/production",
            "severity": "critical",
            "timestamp": "2026-11-27T10:00:00Z",
            "component": "hotel-voice-bot",
            "group": "production",
            "class": "rollback failed",
            "custom_details": {
                "event": "rollback.failed",
                "env": "production",
                "image_before": "hvb:1.8.0",
                "image_after": "hvb:1.7.0",
                "actor": "tester@example.com",
                "run": ctx.run_id,
                "duration": None,
                "change_type": None,
                "incident": None,
                "reason": None,
                "summary": "ECS service did not stabilise",
                "text": None,
            },
        },
    }


@respx.mock
def test_webhook_posts_the_event_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={"webhook": {"url_env": "HVB_WEBHOOK"}})
    route = respx.post(WEBHOOK_URL).respond(204)

    results = send(ctx, "rollback.started", {"reason": "error rate 4%"}, policy=fast_policy(Sleeps()))

    assert [(r.channel, r.status, r.http_status) for r in results] == [("webhook", "sent", 204)]
    assert body(route) == {
        "source": "opsctl",
        "event": "rollback.started",
        "outcome": "started",
        "title": "Rollback started",
        "headline": "Rollback started: hotel-voice-bot staging",
        "service": "hotel-voice-bot",
        "env": "staging",
        "protected": False,
        "image_before": None,
        "image_after": None,
        "actor": "tester@example.com",
        "run": ctx.run_id,
        "duration": None,
        "change_type": None,
        "incident": None,
        "reason": "error rate 4%",
        "summary": None,
        "text": None,
        "ts": "2026-11-27T10:00:00Z",
        "details": {"reason": "error rate 4%"},
    }


@respx.mock
def test_429_with_retry_after_is_retried_after_the_asked_delay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={"slack": {"webhook_env": "HVB_SLACK_HOOK"}})
    route = respx.post(SLACK_URL).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, text="ok")]
    )
    sleeps = Sleeps()

    results = send(ctx, "deploy.started", policy=fast_policy(sleeps))

    assert route.call_count == 2
    assert sleeps == [2.0]
    assert [(r.status, r.attempts, r.http_status) for r in results] == [("sent", 2, 200)]


@respx.mock
def test_persistent_500_becomes_a_warning_and_a_notify_audit_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={"slack": {"webhook_env": "HVB_SLACK_HOOK"}})
    route = respx.post(SLACK_URL).respond(500, text="internal error")
    sleeps = Sleeps()

    results = send(ctx, "deploy.failed", policy=fast_policy(sleeps))

    assert route.call_count == 3
    assert sleeps == [0.5, 1.0]
    assert [(r.status, r.summary) for r in results] == [
        ("warned", "could not deliver deploy.failed to Slack after 3 attempt(s): HTTP 500: internal error")
    ]
    events = [json.loads(line) for line in audit_text(ctx).splitlines()]
    notify_events = [e for e in events if e["step"] == "notify"]
    assert [(e["status"], e["channel"], e["event"], e["attempts"]) for e in notify_events] == [
        ("warned", "slack", "deploy.failed", 3)
    ]


@respx.mock
def test_retry_after_beyond_the_budget_gives_up_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={"slack": {"webhook_env": "HVB_SLACK_HOOK"}})
    respx.post(SLACK_URL).respond(429, headers={"Retry-After": "120"}, text="rate_limited")
    sleeps = Sleeps()

    results = send(ctx, "deploy.started", policy=fast_policy(sleeps))

    assert sleeps == []
    assert results[0].summary == (
        "could not deliver deploy.started to Slack after 1 attempt(s): HTTP 429: rate_limited "
        "(asked to wait 120s, beyond the 5s retry budget)"
    )


@respx.mock
def test_connection_errors_are_retried_then_warned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={"webhook": {"url_env": "HVB_WEBHOOK"}})
    route = respx.post(WEBHOOK_URL).mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))

    results = send(ctx, "deploy.started", policy=fast_policy(Sleeps()))

    assert route.call_count == 3
    assert results[0].summary == (
        "could not deliver deploy.started to the webhook after 3 attempt(s): connection refused"
    )


@respx.mock
def test_no_secret_reaches_results_or_the_audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, env="production")
    # Services that quote the request URL or body back in their error are the realistic leak.
    respx.post(SLACK_URL).respond(404, text=f"no_service for {SLACK_URL}")
    respx.post(WEBHOOK_URL).respond(400, text=f"bad hook /opsctl/wh-s3cr3t-token-123 at {WEBHOOK_URL}")
    respx.post(f"{PD_API}/v2/change/enqueue").respond(400, json={"routing_key": ROUTING_KEY, "status": "invalid"})
    respx.post(f"{PD_API}/v2/enqueue").respond(500, text=ROUTING_KEY)

    results = send(ctx, "rollback.failed", policy=fast_policy(Sleeps()))

    assert [(r.channel, r.kind, r.status) for r in results] == [
        ("slack", "message", "warned"),
        ("pagerduty", "change event", "warned"),
        ("pagerduty", "alert event", "warned"),
        ("webhook", "message", "warned"),
    ]
    assert results[0].summary == "Slack refused rollback.failed: HTTP 404: no_service for ***"
    assert "***" in results[1].summary
    assert_no_secret(json.dumps([r.as_dict() for r in results]), audit_text(ctx))
    assert audit_text(ctx).count('"step":"notify"') == 4


@respx.mock
def test_unset_env_var_is_a_warning_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={"slack": {"webhook_env": "HVB_SLACK_HOOK"}}, secrets=False)

    results = send(ctx, "deploy.started")

    assert [(r.status, r.summary) for r in results] == [
        ("warned", "Slack: HVB_SLACK_HOOK is not set: export the Slack incoming-webhook URL")
    ]
    assert '"summary":"Slack: HVB_SLACK_HOOK is not set' in audit_text(ctx)


@respx.mock
def test_project_template_overrides_the_built_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={"webhook": {"url_env": "HVB_WEBHOOK"}})
    (tmp_path / "notify").mkdir()
    (tmp_path / "notify" / "webhook.json.j2").write_text(
        '{"kind": {{ event | tojson }}, "who": {{ actor | tojson }}, "to": {{ image_after | tojson }}}'
    )
    route = respx.post(WEBHOOK_URL).respond(200)

    send(ctx, "deploy.started", {"image_after": "hvb:2.0.0"}, policy=fast_policy(Sleeps()))

    assert body(route) == {"kind": "deploy.started", "who": "tester@example.com", "to": "hvb:2.0.0"}


@pytest.mark.parametrize(
    ("template", "summary"),
    [
        ("{{ nope }}", "the webhook: template webhook.json.j2 cannot be rendered: UndefinedError: 'nope' is undefined"),
        ('{{ "".__class__.__mro__ }}', "the webhook: template webhook.json.j2 cannot be rendered: SecurityError: "),
        ("[1, 2]", "the webhook: template webhook.json.j2 must render a JSON object"),
    ],
)
@respx.mock
def test_a_broken_project_template_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: str, summary: str
) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={"webhook": {"url_env": "HVB_WEBHOOK"}})
    (tmp_path / "notify").mkdir()
    (tmp_path / "notify" / "webhook.json.j2").write_text(template)
    route = respx.post(WEBHOOK_URL).respond(200)

    results = send(ctx, "deploy.started")

    assert results[0].status == "warned"
    assert results[0].summary.startswith(summary)
    assert not route.called


@respx.mock
def test_dry_run_sends_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, env="production", dry_run=True)
    route = respx.route().respond(200)

    results = send(ctx, "deploy.succeeded", DEPLOY)

    assert not route.called
    assert [(r.channel, r.status, r.summary) for r in results] == [
        ("slack", "skipped", "dry run: Slack deploy.succeeded not sent"),
        ("pagerduty", "skipped", "dry run: PagerDuty change event deploy.succeeded not sent"),
        ("webhook", "skipped", "dry run: the webhook deploy.succeeded not sent"),
    ]


def test_unknown_event_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch)
    with pytest.raises(BadInput) as caught:
        send(ctx, "deploy.exploded")
    assert str(caught.value) == (
        "unknown notification event 'deploy.exploded' (known: deploy.started, deploy.succeeded, deploy.failed, "
        "rollback.started, rollback.succeeded, rollback.failed, window, incident.opened, incident.acknowledged, "
        "incident.noted, incident.resolved, review)"
    )


@respx.mock
def test_no_configured_channel_sends_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={})
    route = respx.route().respond(200)
    assert send(ctx, "deploy.succeeded", DEPLOY) == []
    assert not route.called
