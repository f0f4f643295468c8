"""The notify.* actions: never fail, warn with a way forward, skipped in dry runs."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
from pydantic import ValidationError

from opsctl.actions.notify import (
    HOW_TO_CONFIGURE,
    NotifyParams,
    WindowParams,
    notify_pagerduty,
    notify_slack,
    notify_webhook,
    notify_window,
)
from opsctl.engine.actions import get_action
from opsctl.engine.checklist import run_checklist
from opsctl.engine.loader import load_checklist
from opsctl.engine.outcome import Status
from opsctl.notify import deliver
from tests.notify.support import PD_API, SLACK_URL, WEBHOOK_URL, Sleeps, assert_no_secret, audit_text, notify_ctx


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    sleeps = Sleeps()
    monkeypatch.setattr(deliver, "DEFAULT_POLICY", deliver.RetryPolicy(sleep=sleeps))
    return sleeps


@pytest.mark.parametrize("name", ["notify.slack", "notify.pagerduty", "notify.webhook", "notify.window"])
def test_notify_actions_are_mutating_so_dry_runs_do_not_send(name: str) -> None:
    assert get_action(name).mutating is True


def test_params_are_checked() -> None:
    with pytest.raises(ValidationError):
        NotifyParams.model_validate({"event": "deploy.exploded"})
    with pytest.raises(ValidationError):
        NotifyParams.model_validate({"event": "deploy.started", "channel": "#x"})
    assert NotifyParams.model_validate({"event": "window", "text": "hi"}).text == "hi"


@respx.mock
def test_window_is_announced_on_every_configured_channel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, env="production", params={"image": "hvb:1.8.0"})
    slack = respx.post(SLACK_URL).respond(200, text="ok")
    hook = respx.post(WEBHOOK_URL).respond(200)
    pagerduty = respx.post(url__startswith=PD_API).respond(202)

    outcome = notify_window(ctx, WindowParams(text="deploy hvb:1.8.0 at 14:00 UTC, 10 minutes"))

    assert outcome.status is Status.PASSED
    assert outcome.summary == (
        "deployment window announced on slack, webhook (PagerDuty takes no window message for this environment)"
    )
    assert not pagerduty.called  # a window is not a change: no PagerDuty event
    posted = json.loads(hook.calls[0].request.content)
    assert (posted["event"], posted["image_after"], posted["summary"]) == (
        "window",
        "hvb:1.8.0",
        "deploy hvb:1.8.0 at 14:00 UTC, 10 minutes",
    )
    assert (
        json.loads(slack.calls[0].request.content)["text"]
        == "📣 Deployment window: hotel-voice-bot production hvb:1.8.0"
    )
    assert [d["status"] for d in outcome.detail["deliveries"]] == ["sent", "skipped", "sent"]


@respx.mock
def test_window_passes_when_one_channel_accepts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(
        tmp_path,
        monkeypatch,
        notify={"slack": {"webhook_env": "HVB_SLACK_HOOK"}, "webhook": {"url_env": "HVB_WEBHOOK"}},
    )
    respx.post(SLACK_URL).respond(200, text="ok")
    respx.post(WEBHOOK_URL).respond(503)

    outcome = notify_window(ctx, WindowParams(image="hvb:1.9.0"))

    assert outcome.status is Status.PASSED
    assert outcome.summary == (
        "deployment window announced on slack (could not deliver window to the webhook after 3 attempt(s): HTTP 503)"
    )


@respx.mock
def test_window_warns_when_no_channel_accepts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={"webhook": {"url_env": "HVB_WEBHOOK"}})
    respx.post(WEBHOOK_URL).mock(side_effect=httpx.ConnectTimeout("timed out"))

    outcome = notify_window(ctx, WindowParams())

    assert outcome.status is Status.WARNED
    assert outcome.summary == (
        "deployment window not announced: could not deliver window to the webhook after 3 attempt(s): "
        "connection timed out"
    )
    assert_no_secret(outcome.summary, json.dumps(outcome.detail), audit_text(ctx))


def test_window_warns_and_says_how_when_nothing_is_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={})

    outcome = notify_window(ctx, WindowParams())

    assert outcome.status is Status.WARNED
    assert outcome.summary == HOW_TO_CONFIGURE
    assert outcome.summary == (
        "no notification channel configured: add notify: {slack: {webhook_env: SLACK_WEBHOOK_URL}} "
        "(or pagerduty / webhook) to opsctl.yaml"
    )


@respx.mock
def test_window_in_a_dry_run_checklist_is_skipped_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, dry_run=True)
    (tmp_path / "checklists").mkdir()
    (tmp_path / "checklists" / "announce.yaml").write_text(
        "title: Announce\nitems:\n"
        "  - {id: window, title: Stakeholders notified of deployment window, uses: notify.window}\n"
    )
    route = respx.route().respond(200)

    result = run_checklist(ctx, load_checklist("announce", tmp_path))

    assert not route.called
    assert [(i.status, i.summary) for i in result.items] == [
        (Status.SKIPPED, "dry run: not run because it changes things")
    ]
    direct = notify_window(ctx, WindowParams())
    assert (direct.status, direct.summary) == (
        Status.SKIPPED,
        "dry run: the window would be announced on slack, pagerduty, webhook; nothing sent",
    )


@respx.mock
def test_window_run_by_a_checklist_keeps_secrets_out_of_the_audit_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, env="production")
    (tmp_path / "checklists").mkdir()
    (tmp_path / "checklists" / "announce.yaml").write_text(
        "title: Announce\nitems:\n  - {id: window, title: Window, uses: notify.window, blocking: false}\n"
    )
    respx.post(SLACK_URL).respond(500, text=f"oops {SLACK_URL}")
    respx.post(WEBHOOK_URL).respond(410, text=f"gone {WEBHOOK_URL}")

    result = run_checklist(ctx, load_checklist("announce", tmp_path))

    assert result.items[0].status is Status.WARNED
    assert '"step":"announce/window","status":"warned"' in audit_text(ctx)
    assert_no_secret(audit_text(ctx), json.dumps(result.as_dict()))


def test_channel_action_warns_when_its_channel_is_not_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={})

    outcome = notify_slack(ctx, NotifyParams(event="deploy.started"))

    assert (outcome.status, outcome.summary) == (
        Status.WARNED,
        "Slack is not configured: add notify: {slack: {webhook_env: SLACK_WEBHOOK_URL}} to opsctl.yaml",
    )


@respx.mock
def test_channel_actions_send_only_to_their_channel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, env="production")
    slack = respx.post(SLACK_URL).respond(200, text="ok")
    hook = respx.post(WEBHOOK_URL).respond(200)
    change = respx.post(f"{PD_API}/v2/change/enqueue").respond(202)

    webhook_outcome = notify_webhook(ctx, NotifyParams(event="deploy.succeeded", text="all green"))
    pd_outcome = notify_pagerduty(ctx, NotifyParams(event="deploy.succeeded"))
    skipped = notify_pagerduty(ctx, NotifyParams(event="deploy.started"))

    assert (webhook_outcome.status, webhook_outcome.summary) == (
        Status.PASSED,
        "the webhook accepted deploy.succeeded (HTTP 200)",
    )
    assert json.loads(hook.calls[0].request.content)["text"] == "all green"
    assert (pd_outcome.status, pd_outcome.summary) == (
        Status.PASSED,
        "PagerDuty change event accepted deploy.succeeded (HTTP 202)",
    )
    assert change.call_count == 1
    assert (skipped.status, skipped.summary) == (
        Status.SKIPPED,
        "PagerDuty takes no deploy.started message for this environment",
    )
    assert not slack.called
