"""Tell people about changes: Slack, PagerDuty and a generic JSON webhook.

The one entry point is :func:`send`. It sends an event to every channel
configured under ``notify:`` in opsctl.yaml and returns one
:class:`DeliveryResult` per message. It never raises for a delivery problem:
notifications must never fail or hold up a deploy, so a message that cannot
be delivered becomes a ``warned`` result and a ``notify`` audit event.

Messages are rendered from Jinja2 templates shipped in ``opsctl/notify/templates``;
a project overrides one by placing a file of the same name in
``<project_dir>/notify/`` (for example ``notify/slack.json.j2``). Templates run
in Jinja2's immutable sandbox and never see a secret: webhook URLs and routing
keys are added by the code after rendering.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput
from opsctl.notify.deliver import DeliveryResult, Request, RetryPolicy
from opsctl.values.imageref import ImageRef

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from opsctl.engine.context import RunContext

__all__ = ["CHANNELS", "EVENTS", "DeliveryResult", "EventStyle", "RetryPolicy", "configured_channels", "send"]


@dataclass(frozen=True)
class EventStyle:
    """How an event looks in a message: its title, emoji and colour, and what kind of outcome it is."""

    title: str
    emoji: str
    color: str
    outcome: str  # started | succeeded | failed | announced


EVENTS: dict[str, EventStyle] = {
    "deploy.started": EventStyle("Deploy started", "🚀", "#439FE0", "started"),
    "deploy.succeeded": EventStyle("Deploy succeeded", "✅", "#2EB886", "succeeded"),
    "deploy.failed": EventStyle("Deploy failed", "❌", "#E01E5A", "failed"),
    "rollback.started": EventStyle("Rollback started", "⏪", "#DAA038", "started"),
    "rollback.succeeded": EventStyle("Rollback succeeded", "↩️", "#2EB886", "succeeded"),
    "rollback.failed": EventStyle("Rollback failed", "🚨", "#E01E5A", "failed"),
    "window": EventStyle("Deployment window", "📣", "#439FE0", "announced"),
    # Incidents (opsctl incident): the data carries incident, severity, title, urgency... (see opsctl.incidents)
    "incident.opened": EventStyle("Incident opened", "🚨", "#E01E5A", "started"),
    "incident.acknowledged": EventStyle("Incident acknowledged", "👀", "#DAA038", "announced"),
    "incident.resolved": EventStyle("Incident resolved", "✅", "#2EB886", "succeeded"),
}

CHANNELS = ("slack", "pagerduty", "webhook")
_LABELS = {"slack": "Slack", "pagerduty": "PagerDuty", "webhook": "the webhook"}
_MIN_URL_SECRET = 8  # shorter paths ("/hook") protect nothing and would mask common words
_TEXT_FIELDS = ("env", "image_before", "image_after", "actor", "run", "change_type", "incident", "reason", "summary")


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


def _image_of(value: Any) -> str | None:
    """The image of a reference, a release record or a release, as text."""
    if value is None:
        return None
    if isinstance(value, str | ImageRef):
        return str(value)
    if isinstance(value, Mapping):
        image = value.get("image")
        return str(image) if image else None
    image = getattr(value, "image", None)
    return str(image) if image else None


def _duration(value: Any) -> str | None:
    from opsctl.values.durations import format_duration

    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_duration(float(value))
    return str(value)


def message_context(
    ctx: RunContext, event: str, data: Mapping[str, Any] | None = None, text: str | None = None
) -> dict[str, Any]:
    """Everything a template may use; gaps are filled from the run (params, state, actor...).

    Every value is passed through the redactor, so a template cannot print a secret.
    """
    style = EVENTS[event]
    given = dict(data or {})
    env = given.get("env") or ctx.env_name
    environment = ctx.config.environments.get(str(env)) if env else None
    if event.startswith("rollback."):
        # A rollback goes from what runs now back to the release before it.
        before = _image_of(ctx.state.release) or _image_of(ctx.request.image)
        after = _image_of(ctx.state.previous)
    else:
        before = _image_of(ctx.state.previous)
        after = _image_of(ctx.request.image) or _image_of(ctx.state.release)
    values: dict[str, Any] = {
        "env": env,
        "image_before": _image_of(given.get("image_before")) or before,
        "image_after": _image_of(given.get("image_after")) or after,
        "actor": given.get("actor") or ctx.actor,
        "run": given.get("run") or given.get("run_id") or ctx.run_id,
        "change_type": given.get("change_type") or ctx.request.extra.get("change_type"),
        "incident": given.get("incident") or ctx.request.incident,
        "reason": given.get("reason") or ctx.request.reason,
        "summary": given.get("summary"),
    }
    message: dict[str, Any] = {key: (None if values[key] is None else str(values[key])) for key in _TEXT_FIELDS}
    images = " → ".join(i for i in (message["image_before"], message["image_after"]) if i)
    headline = " ".join(p for p in (f"{style.title}:", ctx.config.service, message["env"] or "", images) if p)
    message.update(
        event=event,
        title=style.title,
        emoji=style.emoji,
        color=style.color,
        outcome=style.outcome,
        service=ctx.config.service,
        protected=bool(environment and environment.protected),
        duration=_duration(given.get("duration")),
        text=text,
        headline=headline,
        ts=ctx.clock().isoformat(timespec="seconds").replace("+00:00", "Z"),
        details={k: v for k, v in given.items() if isinstance(v, str | int | float | bool) or v is None},
    )
    redacted: dict[str, Any] = ctx.redactor.value(message)
    return redacted


@lru_cache(maxsize=8)
def _templates(project_dir: Path) -> ImmutableSandboxedEnvironment:
    from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    loader = ChoiceLoader([FileSystemLoader(project_dir / "notify"), PackageLoader("opsctl.notify", "templates")])
    environment = ImmutableSandboxedEnvironment(loader=loader, undefined=StrictUndefined, autoescape=False)
    environment.filters["mrkdwn"] = mrkdwn
    return environment


def mrkdwn(value: Any) -> str:
    """Escape text for Slack mrkdwn: ``&``, ``<`` and ``>`` are control characters there."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_json(ctx: RunContext, name: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Render template ``name`` (project override first) and parse it as a JSON object.

    Raises NotReady, naming the template, when it cannot be rendered or is not a JSON object.
    """
    from jinja2 import TemplateError

    try:
        rendered = _templates(ctx.project_dir).get_template(name).render(**context)
    except TemplateError as exc:
        raise NotReady(f"template {name} cannot be rendered: {type(exc).__name__}: {exc}") from None
    try:
        payload = json.loads(rendered)
    except ValueError as exc:
        raise NotReady(f"template {name} does not render valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise NotReady(f"template {name} must render a JSON object")
    return payload


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
    from opsctl.notify.deliver import open_client, post_json

    label = _LABELS[channel]
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
