"""What a notification says: event styles, the message context, and its Jinja2 templates.

Messages are rendered from templates shipped in ``opsctl/notify/templates``;
a project overrides one by placing a file of the same name in
``<project_dir>/notify/`` (for example ``notify/slack.json.j2``). Templates run
in Jinja2's immutable sandbox and never see a secret: every context value
passes through the redactor, and webhook URLs and routing keys are added by
the channel modules after rendering. Jinja2 is imported only when a template
is rendered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.notify.channels import NotReady
from opsctl.values.imageref import ImageRef

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from opsctl.engine.context import RunContext

__all__ = ["EVENTS", "EventStyle", "message_context", "mrkdwn", "render_json"]


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
    "incident.noted": EventStyle("Incident update", "📝", "#DAA038", "announced"),  # a note: sent by email only
    "incident.resolved": EventStyle("Incident resolved", "✅", "#2EB886", "succeeded"),
    "review": EventStyle("Operational review", "📊", "#439FE0", "announced"),  # opsctl review --send
}

_TEXT_FIELDS = ("env", "image_before", "image_after", "actor", "run", "change_type", "incident", "reason", "summary")


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
