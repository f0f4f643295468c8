"""The public side of an incident: a Statuspage incident opened, updated and resolved.

Only text given for the public reaches the page: the incident's title,
``--public-message`` and ``note --public`` texts. Causes and internal notes
never do. Each call is a best-effort delivery (see :mod:`opsctl.incidents.comms`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsctl.errors import BadInput
from opsctl.incidents.comms import Deliveries, OpenOptions, link

if TYPE_CHECKING:
    from opsctl.audit.log import Journal
    from opsctl.incidents.model import Incident
    from opsctl.workspace import Workspace

PUBLIC_OPENED = "We are investigating a problem with {service}. We will post updates here."


def open_public(ws: Workspace, journal: Journal, incident: Incident, options: OpenOptions, out: Deliveries) -> None:
    from opsctl.notify import statuspage

    settings = statuspage.settings_of(ws.config.notify)
    components = statuspage.choose_components(settings, list(options.components))
    body = options.public_message or PUBLIC_OPENED.format(service=ws.config.service)
    status = statuspage.COMPONENT_STATUS[incident.severity.value] or "unchanged"
    api = statuspage.statuspage_api(settings, ws.redactor)

    def work() -> str:
        made = statuspage.create(
            api, settings.page_id, incident.title, body, severity=incident.severity.value, components=components
        )
        link(
            journal,
            incident,
            "statuspage",
            f"status page: {made.shortlink or made.id}",
            id=made.id,
            url=made.shortlink,
            status=made.status,
            components=list(components.values()),
        )
        names = ", ".join(components) or "no components"
        return f"Statuspage incident {made.id} opened ({made.status}; {names}: {status})"

    with api:
        out.attempt("statuspage", "public incident", api.host, work)


def update_public(ws: Workspace, incident: Incident, text: str, status: str | None, out: Deliveries) -> None:
    """Post ``text`` as a public update of the incident's status-page incident."""
    from opsctl.notify import statuspage

    public = incident.links.get("statuspage")
    if not public:  # refused before the note was recorded (comms.check_public_note); nothing to update
        return
    settings = statuspage.settings_of(ws.config.notify)
    chosen = status or str(public.get("status") or "investigating")
    api = statuspage.statuspage_api(settings, ws.redactor)

    def work() -> str:
        statuspage.update(api, settings.page_id, str(public["id"]), text, chosen)
        return f"Statuspage incident {public['id']} updated ({chosen})"

    with api:
        out.attempt("statuspage", "public update", api.host, work)


def resolve_public(ws: Workspace, incident: Incident, text: str | None, out: Deliveries) -> None:
    from opsctl.notify import statuspage

    public = incident.links.get("statuspage")
    if not public:
        return
    settings = statuspage.settings_of(ws.config.notify)
    components = [str(c) for c in public.get("components") or []]
    try:
        api = statuspage.statuspage_api(settings, ws.redactor)
    except BadInput as exc:
        out.record("statuspage", "public resolve", f"Statuspage not resolved: {exc}", "-", ok=False)
        return

    def work() -> str:
        statuspage.resolve(api, settings.page_id, str(public["id"]), text or statuspage.RESOLVED_BODY, components)
        back = f"; {len(components)} component(s) operational" if components else ""
        return f"Statuspage incident {public['id']} resolved{back}"

    with api:
        out.attempt("statuspage", "public resolve", api.host, work)
