"""Atlassian Statuspage (REST API v1): the public side of an incident.

``incident open --public`` creates an incident on the page (``POST
/pages/{page_id}/incidents``, status ``investigating``) and sets the
configured components from the severity: P0 ``major_outage``, P1
``partial_outage``, P2 ``degraded_performance``, P3 none (the components are
listed as affected, their status left alone). ``incident note --public``
posts an update (``PATCH .../incidents/{id}`` with a ``body``), ``resolve``
resolves it and puts the components back to ``operational``. Only text given
for the public is sent: titles of updates, notes without ``--public`` and the
cause given to ``resolve`` stay internal.

Requests carry ``Authorization: OAuth <api key>`` (the key from the env var
named by ``notify.statuspage.api_key_env``); errors come as ``{"error": ...}``
(a string or a list); 420/429 answers are rate limits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput
from opsctl.net.jsonapi import ApiError, JsonApi

if TYPE_CHECKING:
    from opsctl.config import StatuspageNotify
    from opsctl.values.redact import Redactor

COMPONENT_STATUS: dict[str, str | None] = {
    "P0": "major_outage",
    "P1": "partial_outage",
    "P2": "degraded_performance",
    "P3": None,
}
OPERATIONAL = "operational"
UPDATE_STATUSES = ("investigating", "identified", "monitoring")
RESOLVED_BODY = "This incident has been resolved."


@dataclass(frozen=True)
class PublicIncident:
    """The page's incident: its id, public link and status."""

    id: str
    shortlink: str | None
    status: str


def settings_of(notify: Any) -> StatuspageNotify:
    """``notify.statuspage``, or BadInput saying how to add it."""
    settings: StatuspageNotify | None = notify.statuspage
    if settings is None:
        raise BadInput(
            "--public needs a status page: add notify: {statuspage: {page_id: ..., api_key_env: "
            "STATUSPAGE_API_KEY, components: {bot: COMPONENT_ID}}} to opsctl.yaml"
        )
    return settings


def choose_components(settings: StatuspageNotify, names: list[str] | None) -> dict[str, str]:
    """The components (name -> id) to set: all configured ones, or those named; BadInput for an unknown name."""
    if not names:
        return dict(settings.components)
    chosen: dict[str, str] = {}
    for name in names:
        if name not in settings.components:
            known = ", ".join(settings.components) or "none configured"
            raise BadInput(f"unknown Statuspage component '{name}' (notify.statuspage.components: {known})")
        chosen[name] = settings.components[name]
    return chosen


def statuspage_api(settings: StatuspageNotify, redactor: Redactor) -> JsonApi:
    """A client for the page; BadInput naming the env var when the key is not set."""
    key = os.environ.get(settings.api_key_env, "").strip()
    if not key:
        raise BadInput(f"{settings.api_key_env} is not set: export the Statuspage API key (notify.statuspage)")
    redactor.add(key)
    return JsonApi(
        "Statuspage", settings.api_url, {"Authorization": f"OAuth {key}"}, scrub=redactor.text, explain=explain
    )


def explain(body: Any) -> str | None:
    """``{"error": "..."}`` or ``{"error": ["...", ...]}`` as one line."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, list):
        return "; ".join(str(e) for e in error)
    return str(error) if error else None


def create(
    api: JsonApi, page_id: str, name: str, body: str, *, severity: str, components: dict[str, str]
) -> PublicIncident:
    """Open a public incident (investigating) with the components set for ``severity``."""
    status = COMPONENT_STATUS[severity]
    incident: dict[str, Any] = {"name": name, "status": "investigating", "body": body}
    if components:
        incident["component_ids"] = list(components.values())
        if status is not None:
            incident["components"] = dict.fromkeys(components.values(), status)
    answer = api.call("POST", f"/pages/{page_id}/incidents", json={"incident": incident})
    return _public(answer.body, "investigating")


def update(api: JsonApi, page_id: str, incident_id: str, body: str, status: str) -> PublicIncident:
    """Post a public update (``body``) with ``status`` (investigating, identified or monitoring)."""
    payload = {"incident": {"status": status, "body": body}}
    return _public(api.call("PATCH", f"/pages/{page_id}/incidents/{incident_id}", json=payload).body, status)


def resolve(api: JsonApi, page_id: str, incident_id: str, body: str, component_ids: list[str]) -> PublicIncident:
    """Resolve the public incident and put its components back to operational."""
    incident: dict[str, Any] = {"status": "resolved", "body": body}
    if component_ids:
        incident["component_ids"] = component_ids
        incident["components"] = dict.fromkeys(component_ids, OPERATIONAL)
    answer = api.call("PATCH", f"/pages/{page_id}/incidents/{incident_id}", json={"incident": incident})
    return _public(answer.body, "resolved")


def _public(body: Any, status: str) -> PublicIncident:
    if not isinstance(body, dict) or not body.get("id"):
        raise ApiError("Statuspage answered without an incident id")
    link = body.get("shortlink")
    return PublicIncident(str(body["id"]), str(link) if link else None, str(body.get("status") or status))
