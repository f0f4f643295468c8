"""How ``opsctl incident`` draws an incident and what a command did to it (lines; JSON is drawn by the caller)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opsctl.cli.application import Application
    from opsctl.incidents.lifecycle import Change
    from opsctl.incidents.model import Incident, Measure
    from opsctl.notify import DeliveryResult

_MARKS = {"sent": "[green]✓[/]", "warned": "[yellow]![/]", "skipped": "[dim]-[/]"}


def print_change(application: Application, change: Change) -> None:
    if application.json:
        application.output.json_document(change.as_dict())
    else:
        show_change(application, change)
    if change.failed_page:  # after the incident is shown: it is recorded, only the page failed
        from opsctl.errors import RunFailed

        raise RunFailed(change.failed_page)


def show_change(application: Application, change: Change) -> None:
    from rich.markup import escape

    out, incident = application.output, change.incident
    if change.action == "opened":
        headline(application, incident)
        out.show(f"  {incident.policy.respond_phrase}: by {when(incident.respond_by)}")
        for kind, label in (("ticket", "ticket"), ("channel", "channel"), ("statuspage", "status page")):
            if incident.link(kind):
                out.show(f"  {label}: {escape(str(incident.link(kind)))}")
    elif change.action == "noted":
        out.show(f"{incident.id}: note added")
    elif change.action == "escalated":
        out.show(f"{incident.id} escalated to {escape(change.detail or str(incident.escalation_level))}")
    else:
        by = incident.resolved_by if change.action == "resolved" else incident.acknowledged_by
        out.show(f"{incident.id} {change.action} by {escape(str(by))}")
    if change.action == "resolved":
        out.show(f"  time to acknowledge {measure(incident.acknowledge_measure(change.now), long=True)}")
        out.show(f"  time to resolve     {measure(incident.resolve_measure(change.now), long=True)}")
        postmortem_line(application, incident)
    print_deliveries(application, change.deliveries)


def print_deliveries(application: Application, deliveries: tuple[DeliveryResult, ...]) -> None:
    from rich.markup import escape

    for result in deliveries:
        application.output.show(f"  {_MARKS.get(result.status, '')} {escape(result.summary)}")


def headline(application: Application, incident: Incident) -> None:
    from rich.markup import escape

    style = {"open": "bold red", "acknowledged": "bold yellow", "resolved": "bold green"}[incident.status]
    where = f" · {', '.join(incident.envs)}" if incident.envs else ""
    application.output.show(
        f"[bold]{incident.id}[/] · {incident.severity.value} ({incident.policy.name}) · "
        f"[{style}]{incident.status}[/]{where} · {escape(incident.title)}"
    )
    application.output.show(f"  opened {when(incident.opened_at)} by {escape(incident.opened_by)}")


def postmortem_line(application: Application, incident: Incident) -> None:
    if incident.postmortem:
        application.output.show(f"  post-mortem: {incident.postmortem}")
    elif incident.postmortem_due:
        application.output.show(
            f"  [bold yellow]{incident.severity.value} needs a post-mortem:[/] opsctl incident postmortem {incident.id}"
        )
        if incident.postmortem_date:
            day = incident.postmortem_date
            application.output.show(f"  post-mortem due by {day.isoformat()} ({day.strftime('%a')})")


def flag(incident: Incident, now: Any) -> str:
    """The list's last column: a missed response, an overdue or pending post-mortem."""
    if incident.respond_overdue(now):
        return f"[bold red]NO ACK[/] (respond by {when(incident.respond_by)})"
    if incident.postmortem_overdue(now):
        return f"[bold red]post-mortem overdue[/] (due {incident.postmortem_date})"
    if incident.postmortem_due:
        return f"[yellow]post-mortem due[/] {incident.postmortem_date}"
    return ""


def measure(judged: Measure, *, long: bool = False) -> str:
    from opsctl.values.durations import format_duration

    took = format_duration(judged.seconds) + ("" if judged.done else "…")
    if judged.breached:
        verdict = "[bold red]BREACHED[/]" if judged.done else "[bold red]OVERDUE[/]"
    else:
        verdict = "[green]met[/]" if judged.done else "running"
    target = f" (target {format_duration(judged.target_s)})" if long else ""
    return f"{took}{target} {verdict}"


def when(moment: Any, *, seconds: bool = False) -> str:
    from opsctl.audit.line import format_ts

    return format_ts(moment)[: 19 if seconds else 16].replace("T", " ")
