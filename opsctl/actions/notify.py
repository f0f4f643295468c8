"""Notification actions: ``notify.slack``, ``notify.pagerduty``, ``notify.webhook``, ``notify.window``.

They are ``mutating``: a message to people is an external side effect, so a
dry run does not send it. They never fail: a message that cannot be
delivered is a warning (see :mod:`opsctl.notify`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome

Event = Literal[
    "deploy.started",
    "deploy.succeeded",
    "deploy.failed",
    "rollback.started",
    "rollback.succeeded",
    "rollback.failed",
    "window",
]

HOW_TO_CONFIGURE = (
    "no notification channel configured: add notify: {slack: {webhook_env: SLACK_WEBHOOK_URL}} "
    "(or pagerduty / webhook) to opsctl.yaml"
)


class NotifyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: Event
    text: str | None = Field(None, description="a free line added to the message")


class WindowParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, description="the plan or what changes (default: the deploy plan's summary)")
    image: str | None = Field(None, description="the image to deploy (default: params.image)")


def _send_to(ctx: RunContext, channel: str, params: NotifyParams) -> Outcome:
    from opsctl.notify import configured_channels, send

    label = {"slack": "Slack", "pagerduty": "PagerDuty", "webhook": "the webhook"}[channel]
    if channel not in configured_channels(ctx):
        example = {
            "slack": "{slack: {webhook_env: SLACK_WEBHOOK_URL}}",
            "pagerduty": "{pagerduty: {routing_key_env: PAGERDUTY_ROUTING_KEY}}",
            "webhook": "{webhook: {url_env: OPSCTL_WEBHOOK_URL}}",
        }[channel]
        return Outcome.warned(f"{label} is not configured: add notify: {example} to opsctl.yaml")
    results = send(ctx, params.event, text=params.text, channels=[channel])
    detail = {"deliveries": [r.as_dict() for r in results]}
    summary = "; ".join(r.summary for r in results)
    if any(r.status == "warned" for r in results):
        return Outcome.warned(summary, **detail)
    if all(r.status == "skipped" for r in results):
        return Outcome.skipped(summary, **detail)
    return Outcome.passed(summary, **detail)


@action("notify.slack", NotifyParams, mutating=True)
def notify_slack(ctx: RunContext, params: NotifyParams) -> Outcome:
    """Post the event to Slack (incoming webhook, Block Kit); warns when it cannot."""
    return _send_to(ctx, "slack", params)


@action("notify.pagerduty", NotifyParams, mutating=True)
def notify_pagerduty(ctx: RunContext, params: NotifyParams) -> Outcome:
    """Send a PagerDuty change event (protected envs) or alert (rollback.failed); warns when it cannot."""
    return _send_to(ctx, "pagerduty", params)


@action("notify.webhook", NotifyParams, mutating=True)
def notify_webhook(ctx: RunContext, params: NotifyParams) -> Outcome:
    """POST the event as JSON to the configured webhook; warns when it cannot."""
    return _send_to(ctx, "webhook", params)


def _plan_summary(ctx: RunContext) -> str | None:
    plan = ctx.state.plan
    return plan["summary"] or None if plan else None


@action("notify.window", WindowParams, mutating=True)
def notify_window(ctx: RunContext, params: WindowParams) -> Outcome:
    """Stakeholders notified of the deployment window: announce it on every configured channel."""
    from opsctl.notify import configured_channels, send

    channels = configured_channels(ctx)
    if not channels:
        return Outcome.warned(HOW_TO_CONFIGURE)
    if ctx.dry_run:
        return Outcome.skipped(f"dry run: the window would be announced on {', '.join(channels)}; nothing sent")
    data = {"summary": params.text or _plan_summary(ctx)}
    if params.image:
        data["image_after"] = params.image
    results = send(ctx, "window", data)
    detail = {"deliveries": [r.as_dict() for r in results]}
    accepted = [r.channel for r in results if r.status == "sent"]
    problems = "; ".join(r.summary for r in results if r.status != "sent")
    if accepted:
        note = f" ({problems})" if problems else ""
        return Outcome.passed(f"deployment window announced on {', '.join(accepted)}{note}", **detail)
    return Outcome.warned(f"deployment window not announced: {problems}", **detail)
