"""``opsctl incident escalate``: page the next level (secondary, then the escalation contact).

Opening pages level 1, the primary. Each escalation records ``escalated``
with the new level and who it reaches, then delivers it:

- with ``oncall.pagerduty``, PagerDuty's own incident (found by its incident
  key, the opsctl incident id) is moved to that level (``PUT /incidents/{id}``),
  and PagerDuty pages whoever is on call there;
- the incident's Slack channel, when it has one: the people are invited and
  told there.

An escalation that reached nobody (no channel, PagerDuty failing) sets
``failed_page``: the command fails loudly so that a person calls by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsctl.errors import BadInput
from opsctl.incidents import store
from opsctl.incidents.comms import Deliveries, post_to_channel
from opsctl.incidents.model import parse_incident_id
from opsctl.oncall.model import LEVEL_NAMES

if TYPE_CHECKING:
    from opsctl.incidents.lifecycle import Change
    from opsctl.incidents.model import Incident
    from opsctl.oncall.model import OnCall
    from opsctl.workspace import Workspace


def escalate(ws: Workspace, incident_text: str) -> Change:
    """Record and deliver the next escalation level of an open incident."""
    from opsctl.incidents.lifecycle import Change
    from opsctl.oncall.lookup import oncall_settings, who_is_on_call

    incident_id = parse_incident_id(incident_text)
    oncall_settings(ws.config)  # BadInput, saying how to add oncall:, before anything else
    with store.locked(ws.state_dir):
        incident = store.load(ws.audit.path, incident_id)
        if incident.resolved_at is not None:
            raise BadInput(f"{incident_id} is resolved; there is nobody to escalate to")
        oncall = who_is_on_call(ws.config, ws.redactor, ws.clock())
        level = incident.escalation_level + 1
        if level > oncall.last_level:
            raise BadInput(
                f"{incident_id} is already at the last escalation level "
                f"({incident.escalation_level}: {_names(oncall, incident.escalation_level)})"
            )
        people = oncall.level(level)
        emails = [p.email for p in people if p.email]
        journal = ws.journal(ws.new_run_id(), store.RUNBOOK, incident.env, incident=incident_id)
        journal.event(
            store.STEP,
            "escalated",
            level=level,
            to=emails,
            summary=f"{incident_id} escalated to level {level} ({LEVEL_NAMES[level]}): {_names(oncall, level)}",
        )
    incident = store.load(ws.audit.path, incident_id)
    out = Deliveries(journal, "incident.escalated")
    _page_level(ws, incident, level, out)
    text = f"⬆️ {incident_id} escalated by {ws.actor} to level {level} ({LEVEL_NAMES[level]}): {_names(oncall, level)}"
    post_to_channel(ws, incident, text, out, invite=tuple(emails))
    ws.run_finished(journal.run)
    reached = any(d.ok for d in out.results)
    failed = None
    if not reached:
        failed = (
            f"{incident_id} escalation to level {level} is recorded but reached nobody automatically: "
            f"call {_names(oncall, level)} by hand"
        )
    detail = f"level {level} ({LEVEL_NAMES[level]}): {_names(oncall, level)}"
    return Change(incident, "escalated", journal.run, ws.clock(), tuple(out.results), failed, detail)


def _names(oncall: OnCall, level: int) -> str:
    return ", ".join(p.label for p in oncall.level(level)) or "nobody on call"


def _page_level(ws: Workspace, incident: Incident, level: int, out: Deliveries) -> None:
    settings = ws.config.oncall.pagerduty if ws.config.oncall else None
    if settings is None:
        return
    from opsctl.oncall import pagerduty

    try:
        api = pagerduty.rest_api(settings, ws.redactor)
    except BadInput as exc:
        out.record("pagerduty", "escalation", f"PagerDuty not escalated: {exc}", "-", ok=False)
        return
    # PagerDuty refuses a level its policy does not have, with its own message: it is reported as such.
    sender = settings.from_email or ws.actor

    def work() -> str:
        found = pagerduty.escalate(api, incident.id, level, sender)
        return f"PagerDuty incident {found} escalated to level {level}"

    with api:
        out.attempt("pagerduty", "escalation", api.host, work)
