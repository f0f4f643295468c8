"""Generic webhook: the event as one JSON object, POSTed to the URL in the env var named by ``url_env``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsctl.notify.channels import NotReady, secret_from_env
from opsctl.notify.deliver import Request
from opsctl.notify.messages import render_json

if TYPE_CHECKING:
    from opsctl.engine.context import RunContext

TEMPLATE = "webhook.json.j2"


def requests(ctx: RunContext, context: dict[str, Any]) -> list[Request]:
    """Every event is POSTed; receivers filter on ``event``."""
    config = ctx.config.notify.webhook
    if config is None:
        raise NotReady("not configured: add notify: {webhook: {url_env: OPSCTL_WEBHOOK_URL}} to opsctl.yaml")
    url = secret_from_env(ctx, config.url_env, "the webhook URL", url=True)
    return [Request("webhook", "the webhook", url, render_json(ctx, TEMPLATE, context))]
