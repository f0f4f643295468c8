"""Tell people about changes: Slack, PagerDuty and a generic JSON webhook.

The one entry point is :func:`send`. It sends an event to every channel
configured under ``notify:`` in opsctl.yaml and returns one
:class:`DeliveryResult` per message. It never raises for a delivery problem:
notifications must never fail or hold up a deploy, so a message that cannot
be delivered becomes a ``warned`` result and a ``notify`` audit event.

Modules, one job each:

- :mod:`~opsctl.notify.channels`: which channels are configured, and their secrets from env vars;
- :mod:`~opsctl.notify.messages`: event styles, the message context, the Jinja2 templates
  (a project overrides one in ``<project_dir>/notify/``, e.g. ``notify/slack.json.j2``);
- :mod:`~opsctl.notify.dispatch`: :func:`send`, over every configured channel;
- :mod:`~opsctl.notify.deliver`: one bounded JSON POST with retries;
- :mod:`~opsctl.notify.slack`, :mod:`~opsctl.notify.pagerduty`, :mod:`~opsctl.notify.webhook`:
  each channel's requests.

The names below are re-exported lazily (PEP 562): ``import opsctl.notify.deliver``
loads that module alone, and each name's module is imported on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opsctl.notify.channels import CHANNELS, NotReady, configured_channels, secret_from_env
    from opsctl.notify.deliver import DeliveryResult, RetryPolicy
    from opsctl.notify.dispatch import send
    from opsctl.notify.messages import EVENTS, EventStyle, message_context, mrkdwn, render_json

__all__ = [
    "CHANNELS",
    "EVENTS",
    "DeliveryResult",
    "EventStyle",
    "NotReady",
    "RetryPolicy",
    "configured_channels",
    "message_context",
    "mrkdwn",
    "render_json",
    "secret_from_env",
    "send",
]

# Public name -> the module that defines it (kept in step with the TYPE_CHECKING imports above).
_HOMES = {
    "CHANNELS": "channels",
    "NotReady": "channels",
    "configured_channels": "channels",
    "secret_from_env": "channels",
    "DeliveryResult": "deliver",
    "RetryPolicy": "deliver",
    "send": "dispatch",
    "EVENTS": "messages",
    "EventStyle": "messages",
    "message_context": "messages",
    "mrkdwn": "messages",
    "render_json": "messages",
}


if not TYPE_CHECKING:  # mypy sees the imports above, so a misspelt name stays a type error

    def __getattr__(name: str) -> Any:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(f"{__name__}.{home}"), name)
        globals()[name] = value  # later lookups skip this function
        return value
