"""Send one event to every configured channel: :func:`send`, the notification entry point.

It never raises for a delivery problem: notifications must never fail or hold
up a deploy, so a message that cannot be delivered becomes a ``warned``
result and a ``notify`` audit event. (Named ``dispatch`` rather than ``send``
so that the submodule never shadows the function re-exported by the package.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput
from opsctl.notify.channels import LABELS, NotReady, configured_channels
from opsctl.notify.deliver import DeliveryResult, Request, RetryPolicy, open_client, post_json
from opsctl.notify.messages import EVENTS, message_context

if TYPE_CHECKING:
    from opsctl.engine.context import RunContext

__all__ = ["send"]


def _prepare(ctx: RunContext, channel: str, context: dict[str, Any]) -> list[Request]:
    """The requests ``channel`` makes for this event; [] when it has nothing to say about it."""
    if channel == "slack":
        from opsctl.notify import slack

        return slack.requests(ctx, context)
    if channel == "pagerduty":
        from opsctl.notify import pagerduty

        return pagerduty.requests(ctx, context)
    from opsctl.notify import webhook

    return webhook.requests(ctx, context)


def _journal(ctx: RunContext, result: DeliveryResult) -> None:
    status = {"sent": "passed", "warned": "warned"}.get(result.status)
    if status is not None:
        fields = {k: v for k, v in result.as_dict().items() if k != "status"}
        ctx.journal.event("notify", status, delivery=result.status, **fields)


def send(
    ctx: RunContext,
    event: str,
    data: Mapping[str, Any] | None = None,
    *,
    text: str | None = None,
    channels: Iterable[str] | None = None,
    policy: RetryPolicy | None = None,
) -> list[DeliveryResult]:
    """Send ``event`` to every configured channel (or only ``channels``); never raises for delivery.

    ``data`` may hold env, image_before, image_after, actor, run, duration
    (seconds or text), change_type, incident, reason and summary; missing
    values come from the run context (images from ``params.image`` and
    ``state`` release/previous; for rollback events, before is the release
    and after the previous one). Pass the images explicitly when in doubt. ``text`` is a free line added to the
    message. In a dry run nothing is sent: every channel reports ``skipped``.
    Each sent or undeliverable message is journaled as a ``notify`` event.
    """
    if event not in EVENTS:
        raise BadInput(f"unknown notification event '{event}' (known: {', '.join(EVENTS)})")
    wanted = configured_channels(ctx) if channels is None else [c for c in channels if c in configured_channels(ctx)]
    context = message_context(ctx, event, data, text)
    results: list[DeliveryResult] = []
    for channel in wanted:
        results.extend(_send_one(ctx, channel, event, context, policy or _default_policy()))
    return results


def _default_policy() -> RetryPolicy:
    # Looked up at call time so that tests can shorten the delays of the actions.
    from opsctl.notify import deliver

    return deliver.DEFAULT_POLICY


def _send_one(
    ctx: RunContext, channel: str, event: str, context: dict[str, Any], policy: RetryPolicy
) -> list[DeliveryResult]:
    label = LABELS[channel]
    if channel == "email":  # SMTP, not a JSON POST: the email package sends and journals its own mail
        from opsctl.notify.email.channel import send_email

        return send_email(ctx, event, context, policy)
    try:
        requests = _prepare(ctx, channel, context)
    except NotReady as exc:
        warned = DeliveryResult(channel, event, "warned", ctx.redactor.text(f"{label}: {exc}"))
        _journal(ctx, warned)
        return [warned]
    if not requests:
        return [DeliveryResult(channel, event, "skipped", f"{label} takes no {event} message for this environment")]
    if ctx.dry_run:
        return [
            DeliveryResult(channel, event, "skipped", f"dry run: {r.label} {event} not sent", kind=r.kind)
            for r in requests
        ]
    results = []
    with open_client(policy) as client:  # bounded: every POST ends by a deadline, its answer capped
        for request in requests:
            result = post_json(client, request, event, policy, ctx.redactor.text)
            _journal(ctx, result)
            results.append(result)
    return results
