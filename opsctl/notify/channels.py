"""Which channels are configured, and the secrets they send with.

A channel is one section under ``notify:`` in opsctl.yaml. Its URL or key is
named by an environment variable, never written in the file; reading it here
registers it with the redactor before anything can print it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsctl.engine.context import RunContext

__all__ = ["CHANNELS", "LABELS", "NotReady", "configured_channels", "secret_from_env"]

CHANNELS = ("slack", "pagerduty", "webhook", "email")
#: How a channel is named in a one-line result ("Slack: SLACK_WEBHOOK_URL is not set ...").
LABELS = {"slack": "Slack", "pagerduty": "PagerDuty", "webhook": "the webhook", "email": "Email"}
_MIN_URL_SECRET = 8  # shorter paths ("/hook") protect nothing and would mask common words


class NotReady(Exception):
    """A configured channel that cannot send (its env var is unset, its template is broken)."""


def configured_channels(ctx: RunContext) -> list[str]:
    """The channels that have a section under ``notify:`` in opsctl.yaml, in a fixed order."""
    return [name for name in CHANNELS if getattr(ctx.config.notify, name) is not None]


def secret_from_env(ctx: RunContext, var: str, what: str, *, url: bool = False) -> str:
    """The value of ``var`` (registered with the redactor), or NotReady naming the variable.

    For a webhook ``url`` the path is registered too: it is the credential
    itself (``hooks.slack.com/services/T/B/secret``), and an error message may
    quote it without the scheme and host.
    """
    value = os.environ.get(var, "").strip()
    if not value:
        raise NotReady(f"{var} is not set: export {what}")
    ctx.redactor.add(value)
    if url:
        from urllib.parse import urlsplit

        path = urlsplit(value).path.strip("/")
        if len(path) >= _MIN_URL_SECRET:
            ctx.redactor.add(path)
    return value
