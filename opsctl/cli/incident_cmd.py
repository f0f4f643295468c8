"""``opsctl incident``: open, acknowledge, annotate, resolve, list, show and write the post-mortem."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from opsctl.cli.common import app_of

if TYPE_CHECKING:
    from opsctl.cli.application import Application
    from opsctl.incidents.lifecycle import Change, Matrix
    from opsctl.incidents.model import Incident, Measure, Severity
    from opsctl.notify import DeliveryResult

app = typer.Typer(
    help="Incident response: open, acknowledge, note, resolve, timeline, post-mortem.", no_args_is_help=True
)

INCIDENT = typer.Argument(..., help="Incident id, e.g. INC-42.")
_MARKS = {"sent": "[green]✓[/]", "warned": "[yellow]![/]", "skipped": "[dim]-[/]"}


@app.command("open")
def open_(
    ctx: typer.Context,
    title: str = typer.Option(..., "--title", "-t", help="What is wrong, in a few words."),
    severity: str | None = typer.Option(None, "--severity", "-s", help="P0, P1, P2 or P3 (asked when omitted)."),
    env: str | None = typer.Option(None, "--env", "-e", help="The environment affected, e.g. production."),
) -> None:
    """Open an incident (INC-<n>): record it, compute the response deadline, page and post.

    Response targets: P0 immediate, P1 15 minutes, P2 1 hour, P3 4 hours.
    Without --severity, a terminal asks three questions (impact, scope, workaround).

    \b
    Examples:
      opsctl incident open --severity P1 --title "booking calls fail" --env production
      opsctl incident open --title "slow replies in one hotel"
    """
    from opsctl.errors import BadInput
    from opsctl.incidents.lifecycle import open_incident
    from opsctl.incidents.model import parse_severity

    application = app_of(ctx)
    matrix = None
    if severity is not None:
        chosen = parse_severity(severity)
    elif application.is_tty and not application.json:
        chosen, matrix = _ask_severity(application)
    else:
        raise BadInput("--severity is required without a terminal: pass --severity P0, P1, P2 or P3")
    change = open_incident(application.workspace(), chosen, title, env, matrix=matrix)
    _print_change(application, change)


@app.command("ack")
def ack(ctx: typer.Context, incident: str = INCIDENT) -> None:
    """Acknowledge an incident: someone is on it (the response time stops here).

    \b
    Example:
      opsctl incident ack INC-42
    """
    from opsctl.incidents.lifecycle import acknowledge

    application = app_of(ctx)
    _print_change(application, acknowledge(application.workspace(), incident))


@app.command("note")
def note(
    ctx: typer.Context,
    incident: str = INCIDENT,
    text: str = typer.Argument(..., help="What was seen or done."),
) -> None:
    """Add a line to an incident's timeline.

    \b
    Example:
      opsctl incident note INC-42 "errors started with the 1.9.0 deploy"
    """
    from opsctl.incidents.lifecycle import add_note

    application = app_of(ctx)
    _print_change(application, add_note(application.workspace(), incident, text))


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    incident: str = INCIDENT,
    cause: str = typer.Option(..., "--cause", help="What caused it (seeds the post-mortem)."),
) -> None:
    """Resolve an incident; P0 and P1 incidents then need a post-mortem.

    \b
    Example:
      opsctl incident resolve INC-42 --cause "1.9.0 exhausted the DB pool; rolled back"
    """
    from opsctl.incidents.lifecycle import resolve as resolve_incident

    application = app_of(ctx)
    _print_change(application, resolve_incident(application.workspace(), incident, cause))


@app.command("list")
def list_(
    ctx: typer.Context,
    open_only: bool = typer.Option(False, "--open", help="Only incidents not resolved yet."),
    env: str | None = typer.Option(None, "--env", "-e", help="Only incidents concerning this environment."),
) -> None:
    """Incidents, oldest first, with time to acknowledge and to resolve against their targets.

    \b
    Examples:
      opsctl incident list --open
      opsctl --json incident list --env production
    """
    from opsctl.incidents.metrics import concerns
    from opsctl.incidents.store import load_all

    application = app_of(ctx)
    ws = application.workspace()
    if env is not None:
        ws.config.environment(env)
    now = ws.clock()
    found = [i for i in load_all(ws.audit.path) if concerns(i, env) and not (open_only and i.resolved_at)]
    if application.json:
        application.output.json_document([i.as_dict(now) for i in found])
        return
    if not found:
        application.output.show("no open incidents" if open_only else "no incidents recorded yet")
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table()
    for column in ("id", "sev", "status", "opened", "env", "title", "acknowledge", "resolve", ""):
        table.add_column(column)
    for i in found:
        flag = "[yellow]post-mortem due[/]" if i.postmortem_due else ""
        table.add_row(
            i.id,
            i.severity.value,
            i.status,
            _when(i.opened_at),
            ", ".join(i.envs) or "-",
            escape(i.title),
            _measure(i.acknowledge_measure(now)),
            _measure(i.resolve_measure(now)),
            flag,
        )
    application.output.show(table)


@app.command("show")
def show(ctx: typer.Context, incident: str = INCIDENT) -> None:
    """An incident's timeline (with rollbacks and hot-patches run for it) and its response times.

    \b
    Example:
      opsctl incident show INC-42
    """
    from opsctl.incidents.model import parse_incident_id
    from opsctl.incidents.timeline import incident_report

    application = app_of(ctx)
    ws = application.workspace()
    report = incident_report(ws.audit.path, parse_incident_id(incident), ws.clock())
    if application.json:
        application.output.json_document(report.as_dict())
        return
    from rich.markup import escape
    from rich.table import Table

    out, i, now = application.output, report.incident, report.now
    _headline(application, i)
    out.show(f"  respond by {_when(i.respond_by)} ({i.policy.respond_text})")
    out.show(f"  time to acknowledge {_measure(i.acknowledge_measure(now), long=True)}")
    out.show(f"  time to resolve     {_measure(i.resolve_measure(now), long=True)}")
    if i.cause:
        out.show(f"  cause: {escape(i.cause)}")
    _postmortem_line(application, i)
    table = Table(title="timeline (UTC)", title_justify="left")
    for column in ("time", "who", "what"):
        table.add_column(column, overflow="fold")
    for entry in report.timeline:
        table.add_row(_when(entry.at, seconds=True), escape(entry.actor), escape(entry.what))
    out.show(table)
    for change in report.changes:
        why = "for this incident" if change.linked else "[yellow]suspect: shortly before[/]"
        out.show(
            f"  {change.run.runbook} {change.run.run} in {change.run.env} ({why}): {change.run.status}, "
            f"{escape(str(change.image_before or '?'))} → {escape(str(change.image_after or '?'))}"
            f"{', verified' if change.run.verified else ''}"
        )


@app.command("postmortem")
def postmortem(
    ctx: typer.Context,
    incident: str = INCIDENT,
    out: Path | None = typer.Option(None, "--out", "-o", help="File to write (default: postmortems/INC-<n>.md)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing post-mortem file."),
) -> None:
    """Write a Markdown post-mortem draft pre-filled from the audit log, and record it.

    The template is overridable with <project>/templates/postmortem.md.j2.

    \b
    Example:
      opsctl incident postmortem INC-42
    """
    from opsctl.incidents.postmortem import write_postmortem

    application = app_of(ctx)
    written = write_postmortem(application.workspace(), incident, out, force=force)
    if application.json:
        application.output.json_document(written.as_dict())
        return
    application.output.show(
        f"{written.incident} post-mortem written to {written.shown} [dim](template: {written.template})[/]"
    )


def _ask_severity(application: Application) -> tuple[Severity, Matrix]:
    from rich.prompt import Prompt

    from opsctl.incidents.lifecycle import Matrix
    from opsctl.incidents.model import MATRIX_QUESTIONS, POLICIES, Impact, Scope, Severity

    out = application.output
    console = out.console  # the prompts ask on it
    out.show("[bold]Severity[/]: three questions (the decision matrix)")
    answers: dict[str, str] = {}
    for key, label, choices in MATRIX_QUESTIONS:
        out.show(f"{label}:")
        for name, text in choices.items():
            out.show(f"  [bold]{name:<9}[/] {text}")
        answers[key] = Prompt.ask(f"{label}?", choices=list(choices), console=console)
    matrix = Matrix(Impact(answers["impact"]), Scope(answers["scope"]), answers["workaround"] == "yes")
    suggested = matrix.severity
    out.show(f"→ {suggested.value} ({POLICIES[suggested].name}): {POLICIES[suggested].respond_phrase}")
    chosen = Prompt.ask("Severity", choices=[s.value for s in Severity], default=suggested.value, console=console)
    return Severity(chosen), matrix


def print_opened(application: Application, change: Change) -> None:
    """An incident opened by a run (``hotpatch --incident new``): one JSON line of the run's stream, or its lines."""
    if application.json:
        application.output.json_line({"event": "incident.opened", **change.as_dict()})
        return
    _print_change(application, change)


def _print_change(application: Application, change: Change) -> None:
    if application.json:
        application.output.json_document(change.as_dict())
        return
    from rich.markup import escape

    out, incident = application.output, change.incident
    if change.action == "opened":
        _headline(application, incident)
        out.show(f"  {incident.policy.respond_phrase}: by {_when(incident.respond_by)}")
    elif change.action == "noted":
        out.show(f"{incident.id}: note added")
    else:
        by = incident.resolved_by if change.action == "resolved" else incident.acknowledged_by
        out.show(f"{incident.id} {change.action} by {escape(str(by))}")
    if change.action == "resolved":
        out.show(f"  time to acknowledge {_measure(incident.acknowledge_measure(change.now), long=True)}")
        out.show(f"  time to resolve     {_measure(incident.resolve_measure(change.now), long=True)}")
        _postmortem_line(application, incident)
    _print_deliveries(application, change.deliveries)


def _print_deliveries(application: Application, deliveries: tuple[DeliveryResult, ...]) -> None:
    from rich.markup import escape

    for result in deliveries:
        application.output.show(f"  {_MARKS.get(result.status, '')} {escape(result.summary)}")


def _headline(application: Application, incident: Incident) -> None:
    from rich.markup import escape

    style = {"open": "bold red", "acknowledged": "bold yellow", "resolved": "bold green"}[incident.status]
    where = f" · {', '.join(incident.envs)}" if incident.envs else ""
    application.output.show(
        f"[bold]{incident.id}[/] · {incident.severity.value} ({incident.policy.name}) · "
        f"[{style}]{incident.status}[/]{where} · {escape(incident.title)}"
    )
    application.output.show(f"  opened {_when(incident.opened_at)} by {escape(incident.opened_by)}")


def _postmortem_line(application: Application, incident: Incident) -> None:
    if incident.postmortem:
        application.output.show(f"  post-mortem: {incident.postmortem}")
    elif incident.postmortem_due:
        application.output.show(
            f"  [bold yellow]{incident.severity.value} needs a post-mortem:[/] opsctl incident postmortem {incident.id}"
        )


def _measure(measure: Measure, *, long: bool = False) -> str:
    from opsctl.values.durations import format_duration

    took = format_duration(measure.seconds) + ("" if measure.done else "…")
    if measure.breached:
        verdict = "[bold red]BREACHED[/]" if measure.done else "[bold red]OVERDUE[/]"
    else:
        verdict = "[green]met[/]" if measure.done else "running"
    target = f" (target {format_duration(measure.target_s)})" if long else ""
    return f"{took}{target} {verdict}"


def _when(moment: Any, *, seconds: bool = False) -> str:
    from opsctl.audit.line import format_ts

    return format_ts(moment)[: 19 if seconds else 16].replace("T", " ")
