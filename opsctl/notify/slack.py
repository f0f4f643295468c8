"""Slack incoming webhook: a Block Kit message (header, fields, a colour bar per outcome)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from opsctl.notify.channels import NotReady, secret_from_env
from opsctl.notify.deliver import Request
from opsctl.notify.messages import render_json

if TYPE_CHECKING:
    from opsctl.engine.context import RunContext

TEMPLATE = "slack.json.j2"
INCIDENT_TEMPLATE = "slack-incident.json.j2"  # incident.* events: severity, title and deadline up front


def requests(ctx: RunContext, context: dict[str, Any]) -> list[Request]:
    """One message per event; the webhook URL comes from the env var named by ``webhook_env``."""
    config = ctx.config.notify.slack
    if config is None:
        raise NotReady("not configured: add notify: {slack: {webhook_env: SLACK_WEBHOOK_URL}} to opsctl.yaml")
    if config.bot_token_env is not None and not os.environ.get(config.webhook_env, "").strip():
        return []  # a bot-token-only setup (incident channels) has no webhook to post to
    url = secret_from_env(ctx, config.webhook_env, "the Slack incoming-webhook URL", url=True)
    template = INCIDENT_TEMPLATE if str(context["event"]).startswith("incident.") else TEMPLATE
    payload = render_json(ctx, template, {**context, "channel": config.channel})
    return [Request("slack", "Slack", url, payload)]
