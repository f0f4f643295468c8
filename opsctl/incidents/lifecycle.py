"""Open, acknowledge, annotate and resolve incidents: each one audit event, notifications where configured.

Each command is a small run of its own (``runbook: "incident"``, a fresh run
id) so that ``opsctl audit show --run`` finds it, and its events, like those
of a rollback started with ``--incident``, carry ``incident: INC-<n>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opsctl.audit.line import format_ts
from opsctl.audit.log import Journal
from opsctl.errors import BadInput
from opsctl.incidents import store
from opsctl.incidents.model import POLICIES, Impact, Incident, Scope, Severity, classify, parse_incident_id

if TYPE_CHECKING:
    from opsctl.notify import DeliveryResult
    from opsctl.workspace import Workspace


@dataclass(frozen=True)
class Matrix:
    """The decision-matrix answers a severity was chosen from (recorded with the incident)."""

    impact: Impact
    scope: Scope
    workaround: bool

    @property
    def severity(self) -> Severity:
        return classify(self.impact, self.scope, self.workaround)

    def as_dict(self) -> dict[str, Any]:
        return {"impact": self.impact.value, "scope": self.scope.value, "workaround": self.workaround}


@dataclass(frozen=True)
class Change:
    """What an incident command did: the incident afterwards, its run id, and the notifications."""

    incident: Incident
    action: str  # opened | acknowledged | noted | resolved
    run: str
    now: datetime
    deliveries: tuple[DeliveryResult, ...] = ()

    @property
    def postmortem_due(self) -> bool:
        return self.incident.postmortem_due

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "run": self.run,
            "incident": self.incident.as_dict(self.now),
            "deliveries": [d.as_dict() for d in self.deliveries],
        }


def when(moment: datetime) -> str:
    """A time as one short UTC string for messages: ``2026-11-27 10:15Z``."""
    return format_ts(moment)[:16].replace("T", " ") + "Z"


def open_incident(
    ws: Workspace, severity: Severity, title: str, env: str | None = None, *, matrix: Matrix | None = None
) -> Change:
    """Open the next ``INC-<n>``: record it, then page and post where configured."""
    title = " ".join(title.split())
    if not title:
        raise BadInput("--title must not be empty: say what is wrong, e.g. 'booking calls fail'")
    if env is not None:
        ws.config.environment(env)
    policy = POLICIES[severity]
    with store.locked(ws.state_dir):
        incident_id = f"INC-{store.next_number(ws.audit.path)}"
        journal = ws.journal(ws.new_run_id(), store.RUNBOOK, env, incident=incident_id)
        journal.event(
            store.STEP,
            "opened",
            severity=severity.value,
            title=title,
            respond_within=policy.respond_text,
            respond_target_s=policy.respond_s,
            urgency=policy.urgency,
            matrix=matrix.as_dict() if matrix else None,
            summary=f"{incident_id} opened ({severity.value}): {title}",
        )
    incident = store.load(ws.audit.path, incident_id)
    return _finish(ws, journal, incident, "opened")


def acknowledge(ws: Workspace, incident_text: str) -> Change:
    """Someone is on it: the time to respond stops. Once only, and not after resolution."""
    incident_id = parse_incident_id(incident_text)
    with store.locked(ws.state_dir):
        incident = store.load(ws.audit.path, incident_id)
        if incident.resolved_at is not None:
            raise BadInput(f"{incident_id} is already resolved; there is nothing to acknowledge")
        if incident.acknowledged_at is not None:
            raise BadInput(
                f"{incident_id} is already acknowledged (by {incident.acknowledged_by} "
                f"at {when(incident.acknowledged_at)})"
            )
        journal = _journal(ws, incident)
        journal.event(store.STEP, "acknowledged", summary=f"{incident_id} acknowledged by {ws.actor}")
    return _finish(ws, journal, store.load(ws.audit.path, incident_id), "acknowledged")


def add_note(ws: Workspace, incident_text: str, text: str) -> Change:
    """A line on the timeline (allowed after resolution too: findings keep coming)."""
    incident_id = parse_incident_id(incident_text)
    text = text.strip()
    if not text:
        raise BadInput("the note is empty: say what was seen or done")
    incident = store.load(ws.audit.path, incident_id)
    journal = _journal(ws, incident)
    journal.event(store.STEP, "noted", text=text, summary=f"{incident_id}: {text}")
    return _finish(ws, journal, store.load(ws.audit.path, incident_id), "noted")


def resolve(ws: Workspace, incident_text: str, cause: str) -> Change:
    """Resolve once; a second resolve is bad input (a note can still be added)."""
    incident_id = parse_incident_id(incident_text)
    cause = " ".join(cause.split())
    if not cause:
        raise BadInput("--cause must not be empty: say what caused it (it seeds the post-mortem)")
    with store.locked(ws.state_dir):
        incident = store.load(ws.audit.path, incident_id)
        if incident.resolved_at is not None:
            raise BadInput(
                f"{incident_id} is already resolved (by {incident.resolved_by} at "
                f"{when(incident.resolved_at)}); add a note instead: "
                f"opsctl incident note {incident_id} TEXT"
            )
        journal = _journal(ws, incident)
        elapsed = (ws.clock() - incident.opened_at).total_seconds()
        journal.event(
            store.STEP,
            "resolved",
            cause=cause,
            duration_s=round(elapsed, 3),
            summary=f"{incident_id} resolved: {cause}",
        )
    return _finish(ws, journal, store.load(ws.audit.path, incident_id), "resolved")


def _journal(ws: Workspace, incident: Incident) -> Journal:
    return ws.journal(ws.new_run_id(), store.RUNBOOK, incident.env, incident=incident.id)


_NOTIFIED = {"opened": "incident.opened", "acknowledged": "incident.acknowledged", "resolved": "incident.resolved"}


def _finish(ws: Workspace, journal: Journal, incident: Incident, action: str) -> Change:
    deliveries: tuple[DeliveryResult, ...] = ()
    if action in _NOTIFIED:
        deliveries = _notify(ws, journal, incident, _NOTIFIED[action])
    ws.run_finished(journal.run)
    return Change(incident, action, journal.run, ws.clock(), deliveries)


def _notify(ws: Workspace, journal: Journal, incident: Incident, event: str) -> tuple[DeliveryResult, ...]:
    """Page and post where ``notify:`` is configured; delivery problems come back as warnings, never errors."""
    from opsctl.notify import configured_channels, send

    ctx = ws.context(journal, incident.env)
    if not configured_channels(ctx):
        return ()
    return tuple(send(ctx, event, incident_message(incident)))


def incident_message(incident: Incident) -> dict[str, Any]:
    """The values notification templates get for an incident event (all scalars: they reach ``details``)."""
    policy = incident.policy
    duration = (incident.resolved_at - incident.opened_at).total_seconds() if incident.resolved_at else None
    status = f"resolved: {incident.cause}" if incident.resolved_at else policy.respond_phrase
    return {
        "env": incident.env,
        "incident": incident.id,
        "severity": incident.severity.value,
        "severity_name": policy.name,
        "title": incident.title,
        "urgency": policy.urgency,
        "pagerduty_severity": policy.pagerduty_severity,
        "respond_within": policy.respond_text,
        "respond_by": format_ts(incident.respond_by),
        "status": incident.status,
        "cause": incident.cause,
        "opened_by": incident.opened_by,
        "duration": duration,
        "summary": f"{incident.severity.value} {incident.id}: {incident.title} ({status})",
    }
