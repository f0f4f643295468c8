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
from opsctl.errors import BadInput, OpsctlError
from opsctl.incidents import store
from opsctl.incidents.comms import (
    Deliveries,
    OpenOptions,
    check_open,
    check_public_note,
    open_channel,
    post_to_channel,
    wants_channel,
    wants_ticket,
    when,
)
from opsctl.incidents.model import POLICIES, Impact, Incident, Scope, Severity, classify, parse_incident_id
from opsctl.incidents.schedule import choose_date

if TYPE_CHECKING:
    from opsctl.notify import DeliveryResult
    from opsctl.oncall.model import OnCall
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
    action: str  # opened | acknowledged | noted | resolved | escalated
    run: str
    now: datetime
    deliveries: tuple[DeliveryResult, ...] = ()
    # Set when the page (or escalation) reached nobody: the command then fails loudly, naming the incident.
    failed_page: str | None = None
    detail: str | None = None  # what the command did, in words (an escalation: to whom)

    @property
    def postmortem_due(self) -> bool:
        return self.incident.postmortem_due

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "run": self.run,
            "incident": self.incident.as_dict(self.now),
            "deliveries": [d.as_dict() for d in self.deliveries],
            "failed_page": self.failed_page,
            "detail": self.detail,
        }


def open_incident(
    ws: Workspace,
    severity: Severity,
    title: str,
    env: str | None = None,
    *,
    matrix: Matrix | None = None,
    options: OpenOptions | None = None,
) -> Change:
    """Open the next ``INC-<n>``: record it, then make its ticket and channel, page, and go public if asked.

    Everything that cannot work (an unknown component, a missing key) is
    refused before the incident is recorded; what fails afterwards is a
    warning, except the page: a page that reached nobody sets ``failed_page``.
    """
    options = options or OpenOptions()
    title = " ".join(title.split())
    if not title:
        raise BadInput("--title must not be empty: say what is wrong, e.g. 'booking calls fail'")
    if env is not None:
        ws.config.environment(env)
    check_open(ws, options)
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
    out = Deliveries(journal, "incident.opened")
    if wants_ticket(ws, options):
        from opsctl.incidents.ticket import open_ticket

        open_ticket(ws, journal, incident, out)
    if wants_channel(ws, options):
        open_channel(ws, journal, store.load(ws.audit.path, incident_id), _oncall_now(ws), out)
    incident = store.load(ws.audit.path, incident_id)
    paged = _notify(ws, journal, incident, "incident.opened")  # after the ticket/channel: the page links them
    out.results.extend(paged)
    if options.public:
        from opsctl.incidents.public import open_public

        open_public(ws, journal, incident, options, out)
    return _done(ws, journal, "opened", out.results, _failed_page(incident, paged))


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
    incident = store.load(ws.audit.path, incident_id)
    out = Deliveries(journal, "incident.acknowledged")
    out.results.extend(_notify(ws, journal, incident, "incident.acknowledged"))
    post_to_channel(ws, incident, f"👀 {incident_id} acknowledged by {ws.actor}", out)
    return _done(ws, journal, "acknowledged", out.results)


def add_note(
    ws: Workspace, incident_text: str, text: str, *, public: bool = False, public_status: str | None = None
) -> Change:
    """A line on the timeline (allowed after resolution too: findings keep coming).

    ``public``: the text is also posted on the status page (``public_status``:
    investigating, identified or monitoring; default: unchanged). Notes
    without it never leave opsctl but for the incident's own channel and the
    stakeholders' mail (``notify.email``: contacts, not the public).
    """
    incident_id = parse_incident_id(incident_text)
    text = text.strip()
    if not text:
        raise BadInput("the note is empty: say what was seen or done")
    if public_status is not None and not public:
        raise BadInput("--status sets the status page: pass it with --public")
    incident = store.load(ws.audit.path, incident_id)
    if public:
        check_public_note(ws, incident, public_status)
    journal = _journal(ws, incident)
    fields = {"public": True} if public else {}
    journal.event(store.STEP, "noted", text=text, **fields, summary=f"{incident_id}: {text}")
    out = Deliveries(journal, "incident.noted")
    if public:
        from opsctl.incidents.public import update_public

        update_public(ws, incident, text, public_status, out)
    post_to_channel(ws, incident, f"📝 {ws.actor}{' (public)' if public else ''}: {text}", out)
    if ws.config.notify.email is not None:  # an update for the stakeholders, in the incident's mail thread
        from opsctl.notify import send

        ctx = ws.context(journal, incident.env)
        out.results.extend(send(ctx, "incident.noted", incident_message(incident), text=text, channels=["email"]))
    return _done(ws, journal, "noted", out.results)


def resolve(
    ws: Workspace,
    incident_text: str,
    cause: str,
    *,
    postmortem_date: str | None = None,
    public_message: str | None = None,
) -> Change:
    """Resolve once; a second resolve is bad input (a note can still be added).

    A P0 or P1 gets its post-mortem day: ``postmortem_date`` (from today to 5
    business days on) or, without it, the fifth business day. The status page
    (if public) is resolved with ``public_message`` (never the cause), the
    ticket commented and closed, the channel told.
    """
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
        now = ws.clock()
        scheduled: dict[str, Any] = {}
        if incident.policy.postmortem_required:
            scheduled["postmortem_by"] = choose_date(postmortem_date, now).isoformat()
        elif postmortem_date is not None:
            raise BadInput(
                f"{incident_id} is {incident.severity.value}: only P0 and P1 incidents get a post-mortem date"
            )
        journal = _journal(ws, incident)
        elapsed = (now - incident.opened_at).total_seconds()
        journal.event(
            store.STEP,
            "resolved",
            cause=cause,
            duration_s=round(elapsed, 3),
            **scheduled,
            summary=f"{incident_id} resolved: {cause}",
        )
    incident = store.load(ws.audit.path, incident_id)
    out = Deliveries(journal, "incident.resolved")
    out.results.extend(_notify(ws, journal, incident, "incident.resolved"))
    if incident.links.get("statuspage"):
        from opsctl.incidents.public import resolve_public

        resolve_public(ws, incident, public_message, out)
    if incident.links.get("ticket"):
        from opsctl.incidents.ticket import close_ticket

        close_ticket(ws, incident, out)
    due = f"; post-mortem due by {incident.postmortem_date}" if incident.postmortem_date else ""
    post_to_channel(ws, incident, f"✅ {incident_id} resolved by {ws.actor}: {cause}{due}", out)
    return _done(ws, journal, "resolved", out.results)


def _journal(ws: Workspace, incident: Incident) -> Journal:
    return ws.journal(ws.new_run_id(), store.RUNBOOK, incident.env, incident=incident.id)


def _done(
    ws: Workspace, journal: Journal, action: str, deliveries: list[DeliveryResult], failed_page: str | None = None
) -> Change:
    ws.run_finished(journal.run)
    incident_id = str(journal.extra["incident"])
    incident = store.load(ws.audit.path, incident_id)
    return Change(incident, action, journal.run, ws.clock(), tuple(deliveries), failed_page)


def _failed_page(incident: Incident, deliveries: tuple[DeliveryResult, ...]) -> str | None:
    """The loud line when PagerDuty (or the stakeholders' email) was configured but did not accept it."""
    failed = [d for d in deliveries if d.channel == "pagerduty" and d.status == "warned"]
    if failed:
        return (
            f"{incident.id} is opened and recorded, but the page failed ({failed[0].summary}): "
            f"page the on-call by hand (see `opsctl oncall`)"
        )
    mailed = [d for d in deliveries if d.channel == "email" and d.status == "warned"]
    if mailed:  # the stakeholders were not told: as loud as a failed page, so that someone tells them by hand
        return f"{incident.id} is opened and recorded, but the stakeholders' email failed ({mailed[0].summary})"
    return None


def _oncall_now(ws: Workspace) -> OnCall | None:
    """Who to invite to the channel; None when unknown (no oncall: section, PagerDuty unreachable)."""
    if ws.config.oncall is None:
        return None
    from opsctl.oncall.lookup import who_is_on_call

    try:
        return who_is_on_call(ws.config, ws.redactor, ws.clock())
    except OpsctlError:
        return None


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
    postmortem_by = incident.postmortem_date
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
        "ticket_url": incident.link("ticket"),
        "channel_url": incident.link("channel"),
        "postmortem_by": postmortem_by.isoformat() if postmortem_by else None,
    }
