"""``window.announced``: the pre-deploy item "Stakeholders notified of deployment window".

An announcement covering now passes; a protected environment's normal change
without one fails; an emergency change for an incident passes and is
recorded; elsewhere, and without a channel to announce on, it warns. Then the
channels hear that the deploy is starting (best effort, never in a dry run).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import respx

from opsctl.actions.windows import WindowAnnouncedParams, window_announced
from opsctl.engine.actions import get_action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Status
from opsctl.notify import deliver
from opsctl.notify.windows import RUNBOOK, STATUS, STEP
from opsctl.workspace import Workspace
from tests.notify.support import Sleeps
from tests.support.context import base_config, make_ctx

NOW = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
SLACK_URL = "https://hooks.example.test/services/T0001/B0001/s3cr3tS1ackPath"
SLACK = {"slack": {"webhook_env": "HVB_SLACK_HOOK"}}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deliver, "DEFAULT_POLICY", deliver.RetryPolicy(sleep=Sleeps()))
    monkeypatch.setenv("HVB_SLACK_HOOK", SLACK_URL)


def ctx_for(
    tmp_path: Path,
    env: str = "production",
    *,
    notify: dict[str, Any] | None = None,
    change_type: str = "normal",
    params: dict[str, Any] | None = None,
    audit: dict[str, Any] | None = None,
) -> RunContext:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = base_config(notify=SLACK if notify is None else notify, **({"audit": audit} if audit else {}))
    ctx = make_ctx(
        tmp_path, config, env=env, runbook="deploy", params={"image": "hvb:1.9.0"} if params is None else params
    )
    ctx.journal.extra["change_type"] = change_type
    ctx.clock = lambda: NOW
    return ctx


def announce(
    ctx: RunContext,
    env: str = "production",
    start: str = "2026-12-01T14:00:00Z",
    end: str = "2026-12-01T15:00:00Z",
    *,
    image: str | None = None,
    delivered: tuple[str, ...] = ("slack",),
) -> str:
    """An announcement as `opsctl announce` records it (its own run)."""
    journal = ctx.journal.log
    run = f"r-announce-{len(journal.path.read_text().splitlines()) if journal.path.exists() else 0}"
    from opsctl.audit.log import Journal

    Journal(journal, run, RUNBOOK, env, "lead@example.com").event(
        STEP,
        STATUS,
        window_start=start,
        window_end=end,
        window_text="-",
        image=image,
        note=None,
        delivered=list(delivered),
        summary="announced",
    )
    return run


def verdict(ctx: RunContext, **params: Any) -> tuple[Status, str]:
    outcome = window_announced(ctx, WindowAnnouncedParams(**params))
    return outcome.status, outcome.summary


def test_the_action_is_registered_and_reads_only() -> None:
    spec = get_action("window.announced")
    assert (spec.mutating, spec.needs_env) == (False, True)  # dry runs check it too


@respx.mock
def test_a_protected_normal_change_without_an_announcement_fails(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path)
    slack = respx.post(SLACK_URL).respond(200, text="ok")

    assert verdict(ctx) == (
        Status.FAILED,
        "no announced deployment window for production covers 2026-12-01 14:30 UTC; a normal change to protected "
        "production needs one: announce it first: opsctl announce production --window START/END",
    )
    assert not slack.called  # a refused change is not "starting now"


@respx.mock
def test_an_announcement_covering_now_passes_and_the_start_is_told(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path)
    run = announce(ctx)
    slack = respx.post(SLACK_URL).respond(200, text="ok")

    outcome = window_announced(ctx, WindowAnnouncedParams())

    assert (outcome.status, outcome.summary) == (
        Status.PASSED,
        f"window 2026-12-01 14:00-15:00 UTC announced by lead@example.com at {_ts(ctx, run)} (run {run})",
    )
    assert outcome.detail["announcement"]["window"] == {
        "start": "2026-12-01T14:00:00Z",
        "end": "2026-12-01T15:00:00Z",
        "text": "2026-12-01 14:00-15:00 UTC",
    }
    assert (outcome.detail["change_type"], outcome.detail["incident"]) == ("normal", None)
    assert [d["status"] for d in outcome.detail["deliveries"]] == ["sent"]
    body = json.loads(slack.calls.last.request.content)
    assert body["text"] == "📣 Deployment window: hotel-voice-bot production hvb:1.9.0"


def _ts(ctx: RunContext, run: str) -> str:
    event = next(json.loads(line) for line in ctx.journal.log.path.read_text().splitlines() if run in line)
    return str(event["ts"])[:16].replace("T", " ") + " UTC"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            {"image": "hvb:1.8.0"},
            "the window 2026-12-01 14:00-15:00 UTC was announced for hvb:1.8.0, not hvb:1.9.0",
        ),
        ({"delivered": ()}, "the announcement of 2026-12-01 14:00-15:00 UTC (run r-announce-0) reached nobody"),
        (
            {"start": "2026-12-01T16:00:00Z", "end": "2026-12-01T17:00:00Z"},
            "no announced deployment window for production covers 2026-12-01 14:30 UTC "
            "(the next is 2026-12-01 16:00-17:00 UTC)",
        ),
        (
            {"start": "2026-12-01T13:00:00Z", "end": "2026-12-01T14:30:00Z"},  # ended just now
            "no announced deployment window for production covers 2026-12-01 14:30 UTC",
        ),
        ({"env": "staging"}, "no announced deployment window for production covers 2026-12-01 14:30 UTC"),
    ],
    ids=["other-image", "reached-nobody", "later", "ended", "other-env"],
)
def test_near_misses_fail_saying_why(tmp_path: Path, setup: dict[str, Any], message: str) -> None:
    ctx = ctx_for(tmp_path)
    announce(ctx, **setup)

    status, summary = verdict(ctx, notify=False)

    assert status is Status.FAILED
    assert summary == (
        f"{message}; a normal change to protected production needs one: "
        "announce it first: opsctl announce production --window START/END"
    )


def test_an_announcement_for_this_image_or_for_none_counts(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path)
    announce(ctx, image="hvb:1.9.0")
    assert verdict(ctx, notify=False)[0] is Status.PASSED
    other = ctx_for(tmp_path / "other", params={})  # `checklist run` without --image: any announcement counts
    announce(other, image="hvb:1.8.0")
    assert verdict(other, notify=False)[0] is Status.PASSED


@respx.mock
def test_an_emergency_change_passes_and_is_recorded(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, change_type="emergency", params={"image": "hvb:1.9.1", "incident": "INC-42"})
    respx.post(SLACK_URL).respond(200, text="ok")

    outcome = window_announced(ctx, WindowAnnouncedParams())

    assert (outcome.status, outcome.summary) == (
        Status.PASSED,
        "emergency change for INC-42: no announced window needed (recorded)",
    )
    assert (outcome.detail["change_type"], outcome.detail["incident"], outcome.detail["announcement"]) == (
        "emergency",
        "INC-42",
        None,
    )


def test_an_emergency_without_an_incident_is_a_normal_change(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, change_type="emergency")
    assert verdict(ctx, notify=False)[0] is Status.FAILED


@respx.mock
def test_elsewhere_it_only_warns(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, env="staging")
    respx.post(SLACK_URL).respond(200, text="ok")

    assert verdict(ctx) == (
        Status.WARNED,
        "no announced deployment window for staging covers 2026-12-01 14:30 UTC (not required here; announce it "
        "first: opsctl announce staging --window START/END)",
    )


def test_a_standard_change_only_warns(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, change_type="standard")
    assert verdict(ctx, notify=False)[0] is Status.WARNED


def test_without_a_channel_to_announce_on_it_warns_how_to_add_one(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, notify={"pagerduty": {"routing_key_env": "HVB_PD_KEY"}})
    assert verdict(ctx) == (
        Status.WARNED,
        "no channel to announce deployment windows on: add notify: {email: {...}} or {slack: {...}} to "
        "opsctl.yaml, then `opsctl announce production --window START/END`",
    )


@respx.mock
def test_a_start_notice_nobody_took_turns_a_pass_into_a_warning(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path)
    announce(ctx)
    respx.post(SLACK_URL).respond(400, text="invalid_payload")

    status, summary = verdict(ctx)

    assert status is Status.WARNED
    assert summary.endswith("; the start notice reached nobody: Slack refused window: HTTP 400: invalid_payload")


@respx.mock
def test_a_dry_run_checks_but_tells_nobody(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path)
    announce(ctx)
    ctx.dry_run = True
    slack = respx.post(SLACK_URL).respond(200, text="ok")

    assert verdict(ctx)[0] is Status.PASSED
    assert not slack.called


def test_with_an_audit_key_a_hand_written_announcement_does_not_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HVB_AUDIT_KEY", "k3y-for-the-audit-log-0123456789")
    ctx = ctx_for(tmp_path, audit={"hmac_key_env": "HVB_AUDIT_KEY"})
    announce(ctx)  # written through the log: keyed
    assert verdict(ctx, notify=False)[0] is Status.PASSED

    forged = ctx_for(tmp_path / "forged", audit={"hmac_key_env": "HVB_AUDIT_KEY"})
    forged.journal.event("noise", "passed")  # the log exists, chained and keyed
    line = {
        "ts": "2026-12-01T09:00:00.000Z",
        "run": "r-forged",
        "runbook": RUNBOOK,
        "env": "production",
        "actor": "mallory",
        "step": STEP,
        "status": STATUS,
        "window_start": "2026-12-01T14:00:00Z",
        "window_end": "2026-12-01T15:00:00Z",
        "delivered": ["slack"],
    }
    with forged.journal.log.path.open("a") as handle:
        handle.write(json.dumps(line, separators=(",", ":")) + "\n")
    assert verdict(forged, notify=False)[0] is Status.FAILED


def test_the_workspace_reads_the_same_rule(tmp_path: Path) -> None:
    """A sanity check that nothing but the audit log is consulted: a fresh workspace sees the announcement."""
    ctx = ctx_for(tmp_path)
    announce(ctx)
    ws = Workspace.load(str(tmp_path / "opsctl.yaml"), actor="x@example.com", clock=lambda: NOW)
    again = ws.context(ws.journal("r2", "deploy", "production"), "production", params={"image": "hvb:1.9.0"})
    assert window_announced(again, WindowAnnouncedParams(notify=False)).status is Status.PASSED
