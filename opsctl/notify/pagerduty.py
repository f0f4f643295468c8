"""PagerDuty Events API v2: change events for production changes, an alert when a rollback fails.

- every finished change to a protected environment (deploy or rollback,
  succeeded or failed) is a **change event** (``POST /v2/change/enqueue``):
  context for whoever is on call, without paging anyone;
- a failed automatic rollback (``rollback.failed``, in any environment) is an
  **alert** (``POST /v2/enqueue``, ``trigger``, severity critical) that pages:
  the service is in a state opsctl could not repair. Its ``dedup_key`` is per
  run, so a retried or repeated send cannot open a second incident.
- an incident (``opsctl incident``) is an **alert** too: ``incident.opened``
  triggers it with the PagerDuty severity of its P0-P3 level (critical/error
  page with high urgency, warning/info with low urgency), and
  ``incident.acknowledged`` / ``incident.resolved`` acknowledge and resolve
  the same alert: its ``dedup_key`` is the incident id (``INC-42``), so
  PagerDuty's incident key is opsctl's id and ``incident escalate`` finds it.
  The trigger links the incident's ticket and channel when it has them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsctl.notify.channels import NotReady, secret_from_env
from opsctl.notify.deliver import Request
from opsctl.notify.messages import render_json

if TYPE_CHECKING:
    from opsctl.engine.context import RunContext

CHANGE_EVENTS = frozenset({"deploy.succeeded", "deploy.failed", "rollback.succeeded", "rollback.failed"})
ALERT_EVENTS = frozenset({"rollback.failed"})
INCIDENT_ACTIONS = {
    "incident.opened": "trigger",
    "incident.acknowledged": "acknowledge",
    "incident.resolved": "resolve",
}
_SUMMARY_MAX = 1024  # the API's limit for payload.summary


def kinds(event: str, protected: bool) -> list[str]:
    """Which PagerDuty events an opsctl event becomes: "change", "alert", both, "incident" or none."""
    if event in INCIDENT_ACTIONS:
        return ["incident"]
    found = []
    if protected and event in CHANGE_EVENTS:
        found.append("change")
    if event in ALERT_EVENTS:
        found.append("alert")
    return found


def dedup_key(context: dict[str, Any]) -> str:
    if context["event"] in INCIDENT_ACTIONS:  # one alert per incident, whichever command speaks of it
        return str(context["incident"])[:255]
    return f"opsctl/{context['service']}/{context['env'] or '-'}/{context['run']}"[:255]


def _links(context: dict[str, Any]) -> dict[str, Any]:
    """``links`` to the incident's ticket and channel (none when it has neither)."""
    details = context.get("details") or {}
    shown = (("ticket_url", "Ticket {incident}"), ("channel_url", "Slack channel of {incident}"))
    links = [
        {"href": details[key], "text": text.format(incident=context["incident"])}
        for key, text in shown
        if details.get(key)
    ]
    return {"links": links} if links else {}


def requests(ctx: RunContext, context: dict[str, Any]) -> list[Request]:
    config = ctx.config.notify.pagerduty
    if config is None:
        raise NotReady(
            "not configured: add notify: {pagerduty: {routing_key_env: PAGERDUTY_ROUTING_KEY}} to opsctl.yaml"
        )
    wanted = kinds(context["event"], bool(context["protected"]))
    if not wanted:
        return []
    key = secret_from_env(ctx, config.routing_key_env, "the routing key of a PagerDuty Events API v2 integration")
    base = config.api_url.rstrip("/")
    made = []
    for kind in wanted:
        payload = render_json(ctx, f"pagerduty-{kind}.json.j2", {**context, "dedup_key": dedup_key(context)})
        body = payload.get("payload")
        if isinstance(body, dict) and isinstance(body.get("summary"), str):
            # Redact before cutting: a secret straddling the cut would no longer match, and leak in part.
            body["summary"] = ctx.redactor.text(body["summary"])[:_SUMMARY_MAX]
        if kind == "alert":
            # Whatever a project template says, the page must trigger and dedupe per run.
            payload.update(event_action="trigger", dedup_key=dedup_key(context))
        if kind == "incident":  # likewise: trigger, acknowledge or resolve the incident's one alert
            payload.update(event_action=INCIDENT_ACTIONS[context["event"]], dedup_key=dedup_key(context))
            if payload["event_action"] == "trigger" and "links" not in payload:
                payload.update(_links(context))
        # The key is added after rendering so that no template ever sees it.
        payload = {"routing_key": key, **payload}
        path = "/v2/change/enqueue" if kind == "change" else "/v2/enqueue"
        label = "alert" if kind == "incident" else kind
        made.append(Request("pagerduty", f"PagerDuty {label} event", base + path, payload, kind=f"{label} event"))
    return made
