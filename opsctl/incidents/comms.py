"""Where an incident is told beyond ``notify:`` messages: its ticket, its Slack channel, the status page.

- a GitHub issue as the ticket (``notify.github_issue``), labelled by severity,
  commented and closed on resolve;
- a Slack channel ``inc-<n>-<slug>`` (``notify.slack.bot_token_env``) with the
  on-call invited and the summary pinned; acks, notes, escalations and the
  resolution are posted there;
- a public Statuspage incident (``incident open --public``), updated by
  ``note --public`` and resolved with its components back to operational.

Each delivery is best-effort: it becomes a :class:`DeliveryResult` and a
``notify`` audit event (naming the API's host, never a token or a full URL),
and a problem never undoes what was recorded. What was made (channel, ticket,
public incident) is recorded as a ``linked`` event, so later commands find it
in the audit log. Internal text (titles of notes, causes) is never sent to the
status page; only the text given for the public is.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opsctl.audit.line import format_ts
from opsctl.errors import BadInput, OpsctlError
from opsctl.incidents import store

if TYPE_CHECKING:
    from opsctl.audit.log import Journal
    from opsctl.incidents.model import Incident
    from opsctl.net.jsonapi import JsonApi
    from opsctl.notify.deliver import DeliveryResult
    from opsctl.oncall.model import OnCall
    from opsctl.workspace import Workspace


@dataclass(frozen=True)
class OpenOptions:
    """What ``incident open`` does beyond recording and paging (None: as configured)."""

    public: bool = False
    components: tuple[str, ...] = ()
    public_message: str | None = None
    channel: bool | None = None  # None: when notify.slack.bot_token_env is set
    ticket: bool | None = None  # None: when notify.github_issue is set


def check_open(ws: Workspace, options: OpenOptions) -> None:
    """Refuse, before anything is recorded, what cannot work: bad input is exit 2 with nothing opened."""
    notify = ws.config.notify
    if options.components and not options.public:
        raise BadInput("--component sets the status page: pass it with --public")
    if options.public:
        from opsctl.notify import statuspage

        settings = statuspage.settings_of(notify)
        statuspage.choose_components(settings, list(options.components))
        _require_env(settings.api_key_env, "the Statuspage API key (notify.statuspage.api_key_env)")
    if options.channel and (notify.slack is None or notify.slack.bot_token_env is None):
        raise BadInput("--channel needs a Slack bot token: add notify: {slack: {bot_token_env: SLACK_BOT_TOKEN}}")
    if options.ticket and notify.github_issue is None:
        raise BadInput("--ticket needs notify: {github_issue: {}} and github: {repo: owner/name} in opsctl.yaml")


def check_public_note(ws: Workspace, incident: Incident, status: str | None) -> None:
    """Refuse ``note --public`` before the note is recorded when it cannot reach the status page."""
    from opsctl.notify import statuspage

    if status is not None and status not in statuspage.UPDATE_STATUSES:
        raise BadInput(f"--status must be one of {', '.join(statuspage.UPDATE_STATUSES)}, not '{status}'")
    if not incident.links.get("statuspage"):
        raise BadInput(
            f"{incident.id} is not public: it was opened without --public, so there is no status page to update"
        )
    settings = statuspage.settings_of(ws.config.notify)
    _require_env(settings.api_key_env, "the Statuspage API key (notify.statuspage.api_key_env)")


def _require_env(var: str, what: str) -> None:
    if not os.environ.get(var, "").strip():
        raise BadInput(f"{var} is not set: export {what}")


def wants_channel(ws: Workspace, options: OpenOptions) -> bool:
    slack = ws.config.notify.slack
    configured = slack is not None and slack.bot_token_env is not None
    return configured if options.channel is None else options.channel


def wants_ticket(ws: Workspace, options: OpenOptions) -> bool:
    configured = ws.config.notify.github_issue is not None
    return configured if options.ticket is None else options.ticket


class Deliveries:
    """The deliveries of one incident command: each recorded as a ``notify`` event as it happens."""

    def __init__(self, journal: Journal, event: str) -> None:
        self.journal = journal
        self.event = event
        self.results: list[DeliveryResult] = []

    def record(self, channel: str, kind: str, summary: str, host: str, *, ok: bool = True) -> DeliveryResult:
        from opsctl.notify.deliver import DeliveryResult

        result = DeliveryResult(channel, self.event, "sent" if ok else "warned", summary, attempts=1, kind=kind)
        self.journal.event(
            "notify",
            "passed" if ok else "warned",
            delivery=result.status,
            channel=channel,
            event=self.event,
            kind=kind,
            destination=host,
            summary=summary,
        )
        self.results.append(result)
        return result

    def attempt(self, channel: str, kind: str, host: str, work: Callable[[], str]) -> bool:
        """Run ``work`` (which returns the success line); an API or input problem becomes a warning."""
        from opsctl.net.jsonapi import ApiError

        try:
            line = work()
        except (ApiError, OpsctlError) as exc:
            self.record(channel, kind, str(exc), host, ok=False)
            return False
        self.record(channel, kind, line, host)
        return True


def link(journal: Journal, incident: Incident, kind: str, summary: str, **fields: Any) -> None:
    """Record what was made for the incident (its channel, ticket or public incident)."""
    journal.event(store.STEP, "linked", link={"kind": kind, **fields}, summary=f"{incident.id} {summary}")


# -- the channel ---------------------------------------------------------------------------------


def _slack(ws: Workspace) -> JsonApi:
    from opsctl.notify import slack_channel

    if ws.config.notify.slack is None:
        raise BadInput("no notify.slack section")
    return slack_channel.slack_api(ws.config.notify.slack, ws.redactor)


def open_channel(ws: Workspace, journal: Journal, incident: Incident, oncall: OnCall | None, out: Deliveries) -> None:
    from opsctl.notify import slack_channel

    try:
        api = _slack(ws)
    except BadInput as exc:
        out.record("slack", "channel", f"Slack channel not made: {exc}", "-", ok=False)
        return
    emails = [p.email for p in (oncall.primary + oncall.secondary if oncall else ()) if p.email]
    name = slack_channel.channel_name(incident.id, incident.title)

    def work() -> str:
        made = slack_channel.open_channel(api, name, emails, summary_text(ws, incident, oncall))
        link(
            journal, incident, "channel", f"channel #{made.name}: {made.url}", id=made.id, name=made.name, url=made.url
        )
        invited = ", ".join(made.invited) or "nobody"
        problems = f"; problems: {'; '.join(made.problems)}" if made.problems else ""
        return (
            f"Slack channel #{made.name} made, invited {invited}{', summary pinned' if made.pinned else ''}{problems}"
        )

    with api:
        out.attempt("slack", "channel", api.host, work)


def post_to_channel(
    ws: Workspace, incident: Incident, text: str, out: Deliveries, invite: tuple[str, ...] = ()
) -> None:
    """Post ``text`` (and invite ``invite``) in the incident's channel, when it has one."""
    from opsctl.notify import slack_channel

    channel = incident.links.get("channel")
    if not channel:
        return
    try:
        api = _slack(ws)
    except BadInput as exc:
        out.record("slack", "channel post", f"Slack channel post skipped: {exc}", "-", ok=False)
        return

    def work() -> str:
        invited: list[str] = []
        if invite:
            invited, problems = slack_channel.invite(api, str(channel["id"]), list(invite))
            if problems:
                out.record("slack", "channel invite", "; ".join(problems), api.host, ok=False)
        slack_channel.post(api, str(channel["id"]), text)
        return f"posted in #{channel.get('name')}" + (f", invited {', '.join(invited)}" if invited else "")

    with api:
        out.attempt("slack", "channel post", api.host, work)


def when(moment: datetime) -> str:
    """A time as one short UTC string for messages: ``2026-11-27 10:15Z``."""
    return format_ts(moment)[:16].replace("T", " ") + "Z"


def summary_text(ws: Workspace, incident: Incident, oncall: OnCall | None = None) -> str:
    """The incident in a few lines, for the ticket and the pinned channel message (internal text)."""
    lines = [
        f"{incident.id} [{incident.severity.value}, {incident.policy.name}] {incident.title}",
        f"Service: {ws.config.service}" + (f" · environment: {incident.env}" if incident.env else ""),
        f"Opened {when(incident.opened_at)} by {incident.opened_by}; "
        f"{incident.policy.respond_phrase} (by {when(incident.respond_by)})",
    ]
    if oncall is not None and oncall.primary:
        secondary = ", ".join(p.label for p in oncall.secondary) or "-"
        lines.append(f"On call: {oncall.primary_text} (primary), {secondary} (secondary)")
    shown = {"ticket": "Ticket", "statuspage": "Status page"}
    lines.extend(f"{label}: {incident.link(kind)}" for kind, label in shown.items() if incident.link(kind))
    lines.append(f"Timeline: opsctl incident show {incident.id}")
    return "\n".join(lines)
