"""One notification as a mail: subject, plain-text and HTML parts, and the headers that thread it.

The parts are rendered from ``email-<kind>.txt.j2`` and ``email-<kind>.html.j2``
(``kind``: ``incident`` or ``window``) in Jinja2's immutable sandbox with
StrictUndefined; a project overrides one in ``<project_dir>/notify/``. The
HTML part is autoescaped, the text part is not. Every value comes from
:func:`opsctl.notify.messages.message_context`, which has passed it through
the redactor.

Threading: one incident's mails share a root ``Message-ID`` derived from the
incident id alone (``<opsctl.hotel-voice-bot.inc-42@example.com>``). The
``incident.opened`` mail carries it; every later mail (acknowledged, update,
resolved) has its own id and ``In-Reply-To``/``References`` pointing at the
root, and the same subject behind ``Re:``. Because the root is computed, not
remembered, a later mail threads even when the first one never arrived. A
deployment window's notices thread the same way on
``<opsctl.SERVICE.window.ENV.START@domain>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.notify.channels import NotReady

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

#: The events a mail is sent for, and the template family of each.
KINDS = {
    "window": "window",
    "incident.opened": "incident",
    "incident.acknowledged": "incident",
    "incident.noted": "incident",
    "incident.resolved": "incident",
}
# The keys email templates may read from ``d`` (None when the event did not give them).
_INCIDENT_KEYS = (
    "severity",
    "severity_name",
    "title",
    "status",
    "respond_within",
    "respond_by",
    "cause",
    "opened_by",
    "ticket_url",
    "channel_url",
    "postmortem_by",
)
_WINDOW_KEYS = ("window_text", "window_start", "window_end", "note", "phase")
_ID_PART = re.compile(r"[^a-z0-9]+")
# Headers are not folded below RFC 5322's 998: a folded Message-ID reads back with a leading space in some parsers.
_POLICY = email_policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Recipient:
    """A contact the mail goes to: its name in opsctl.yaml (what logs show) and its address."""

    contact: str
    display: str
    address: str

    @property
    def header(self) -> str:
        return formataddr((self.display, self.address))


@dataclass(frozen=True)
class Thread:
    """This mail's ``Message-ID`` and, for a follow-up, the root it replies to."""

    message_id: str
    root: str | None  # None: this mail starts its thread (or has none)


def _id_part(text: str) -> str:
    return _ID_PART.sub("-", text.lower()).strip("-") or "x"


def root_id(service: str, key: str, domain: str) -> str:
    """The deterministic root ``Message-ID`` of a thread (an incident, a window): same inputs, same id."""
    return f"<opsctl.{_id_part(service)}.{_id_part(key)}@{domain}>"


def thread_of(context: Mapping[str, Any], domain: str) -> Thread:
    """Where this mail sits: the root of its thread, a reply to that root, or alone."""
    event, service = str(context["event"]), str(context["service"])
    details: Mapping[str, Any] = context.get("details") or {}
    own = make_msgid(idstring=f"opsctl.{_id_part(service)}", domain=domain)
    key: str | None = None
    starts = False
    if event.startswith("incident.") and context.get("incident"):
        key, starts = str(context["incident"]), event == "incident.opened"
    elif event == "window" and details.get("window_start") and context.get("env"):
        key = f"window.{context['env']}.{details['window_start']}"
        starts = details.get("phase") == "announced"
    if key is None:
        return Thread(own, None)
    root = root_id(service, key, domain)
    return Thread(root, None) if starts else Thread(own, root)


def subject_of(context: Mapping[str, Any]) -> str:
    """The subject, the same for every mail of a thread (mail clients thread on it too)."""
    details: Mapping[str, Any] = context.get("details") or {}
    service = context["service"]
    if str(context["event"]).startswith("incident."):
        severity = details.get("severity")
        label = f"{context['incident']} ({severity})" if severity else str(context["incident"])
        subject = f"[{service}] {label}: {details.get('title') or context.get('summary') or ''}"
    else:
        window = details.get("window_text") or context.get("ts")
        subject = f"[{service}] Deployment window: {context.get('env') or '-'} {window}"
    return " ".join(subject.split())  # no line break can reach a header


def lead_of(context: Mapping[str, Any]) -> str:
    """The first line of the body: what happened, for whom reads only that."""
    details: Mapping[str, Any] = context.get("details") or {}
    event, actor, incident = str(context["event"]), context.get("actor"), context.get("incident")
    if event == "incident.opened":
        return f"{incident} opened by {details.get('opened_by') or actor}: {details.get('title')}"
    if event == "incident.acknowledged":
        return f"{incident} acknowledged by {actor}: someone is on it."
    if event == "incident.noted":
        return f"Update on {incident} from {actor}."
    if event == "incident.resolved":
        due = f" Post-mortem scheduled: due by {details['postmortem_by']}." if details.get("postmortem_by") else ""
        return f"{incident} resolved by {actor}.{due}"
    window = details.get("window_text")
    if details.get("phase") == "starting":
        return f"The deployment to {context.get('env')} is starting now" + (f" (window {window})." if window else ".")
    if details.get("phase") == "updated":
        return f"Updated deployment window for {context.get('env')}: {window}."
    if window:
        return f"Deployment window for {context.get('env')}: {window}."
    return f"A deployment to {context.get('env')} is starting now."


def _readable(moment: Any) -> Any:
    """An audit timestamp (``2026-11-27T10:15:00.000Z``) as people read it: ``2026-11-27 10:15 UTC``."""
    try:
        parsed = datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
    except ValueError:
        return moment
    return parsed.strftime("%Y-%m-%d %H:%M UTC") if parsed.utcoffset() == timedelta(0) else moment


@lru_cache(maxsize=8)
def _templates(project_dir: Path) -> ImmutableSandboxedEnvironment:
    from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    loader = ChoiceLoader([FileSystemLoader(project_dir / "notify"), PackageLoader("opsctl.notify", "templates")])
    # Escape the HTML part only: in the text part "&" must stay "&".
    return ImmutableSandboxedEnvironment(
        loader=loader, undefined=StrictUndefined, autoescape=lambda name: bool(name and name.endswith(".html.j2"))
    )


def _render(project_dir: Path, name: str, values: Mapping[str, Any]) -> str:
    from jinja2 import TemplateError

    try:
        return _templates(project_dir).get_template(name).render(**values)
    except TemplateError as exc:
        raise NotReady(f"template {name} cannot be rendered: {type(exc).__name__}: {exc}") from None


def compose(
    context: Mapping[str, Any],
    *,
    project_dir: Path,
    sender: str,
    recipients: Sequence[Recipient],
    now: datetime,
) -> EmailMessage:
    """The mail for one event (NotReady when a template cannot be rendered)."""
    event = str(context["event"])
    kind = KINDS[event]
    domain = sender.rpartition("@")[2]
    details: Mapping[str, Any] = context.get("details") or {}
    keys = _INCIDENT_KEYS if kind == "incident" else _WINDOW_KEYS
    thread = thread_of(context, domain)
    subject = subject_of(context)
    values = {
        **context,
        "d": {key: _readable(details.get(key)) if key == "respond_by" else details.get(key) for key in keys},
        "subject": subject,
        "lead": lead_of(context),
    }
    text = _render(project_dir, f"email-{kind}.txt.j2", values)
    html = _render(project_dir, f"email-{kind}.html.j2", values)

    message = EmailMessage(policy=_POLICY)
    message["Subject"] = f"Re: {subject}" if thread.root else subject
    message["From"] = formataddr((f"opsctl ({context['service']})", sender))
    message["To"] = ", ".join(r.header for r in recipients)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = thread.message_id
    if thread.root:
        message["In-Reply-To"] = thread.root
        message["References"] = thread.root
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    message["X-Opsctl-Event"] = event
    if context.get("incident"):
        message["X-Opsctl-Incident"] = str(context["incident"])
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
