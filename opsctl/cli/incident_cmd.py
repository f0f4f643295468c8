"""``opsctl incident``: open, acknowledge, annotate, resolve, escalate, list, show and write the post-mortem."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from opsctl.cli.common import app_of
from opsctl.cli.completion import complete_env, complete_incident
from opsctl.cli.incident_views import flag, headline, measure, postmortem_line, print_change, show_change, when

if TYPE_CHECKING:
    from opsctl.cli.application import Application
    from opsctl.incidents.lifecycle import Change, Matrix
    from opsctl.incidents.model import Severity

app = typer.Typer(
    help="Incident response: open, ack, note, escalate, resolve, timeline, postmortem.", no_args_is_help=True
)

INCIDENT = typer.Argument(..., autocompletion=complete_incident, help="Incident id, e.g. INC-42.")


@app.command("open")
def open_(
    ctx: typer.Context,
    title: str = typer.Option(..., "--title", "-t", help="What is wrong, in a few words."),
    severity: str | None = typer.Option(None, "--severity", "-s", help="P0, P1, P2 or P3 (asked when omitted)."),
    env: str | None = typer.Option(
        None, "--env", "-e", autocompletion=complete_env, help="The environment affected, e.g. production."
    ),
    public: bool = typer.Option(False, "--public", help="Also open a public incident on the status page."),
    component: list[str] = typer.Option(
        [], "--component", help="Status page component to set (repeatable; default: all configured)."
    ),
    public_message: str | None = typer.Option(
        None, "--public-message", help="What the status page says (default: a generic 'we are investigating')."
    ),
    channel: bool | None = typer.Option(
        None, "--channel/--no-channel", help="Make a Slack channel inc-<n>-<slug> (default: with a bot token)."
    ),
    ticket: bool | None = typer.Option(
        None, "--ticket/--no-ticket", help="Open a GitHub issue as the ticket (default: with notify.github_issue)."
    ),
) -> None:
    """Open an incident (INC-<n>): record it, compute the response deadline, page and post.

    Response targets: P0 immediate, P1 15 minutes, P2 1 hour, P3 4 hours.
    Without --severity, a terminal asks three questions (impact, scope, workaround).
    The incident is recorded first; a page PagerDuty did not accept then fails
    the command (exit 1, naming the incident) so that someone pages by hand.

    \b
    Examples:
      opsctl incident open --severity P1 --title "booking calls fail" --env production
      opsctl incident open -s P1 -t "booking calls fail" --public --component bot
      opsctl incident open --title "slow replies in one hotel"
    """
    from opsctl.errors import BadInput
    from opsctl.incidents.comms import OpenOptions
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
    options = OpenOptions(public, tuple(component), public_message, channel, ticket)
    change = open_incident(application.workspace(), chosen, title, env, matrix=matrix, options=options)
    print_change(application, change)


@app.command("ack")
def ack(ctx: typer.Context, incident: str = INCIDENT) -> None:
    """Acknowledge an incident: someone is on it (the response time stops here).

    \b
    Example:
      opsctl incident ack INC-42
    """
    from opsctl.incidents.lifecycle import acknowledge

    application = app_of(ctx)
    print_change(application, acknowledge(application.workspace(), incident))


@app.command("note")
def note(
    ctx: typer.Context,
    incident: str = INCIDENT,
    text: str = typer.Argument(..., help="What was seen or done."),
    public: bool = typer.Option(False, "--public", help="Also post TEXT on the status page (internal otherwise)."),
    status: str | None = typer.Option(
        None, "--status", help="With --public: investigating, identified or monitoring (default: unchanged)."
    ),
) -> None:
    """Add a line to an incident's timeline (and, with --public, to its status page).

    Notes stay internal unless --public is given: they go to the audit log
    and the incident's own Slack channel, never to the status page.

    \b
    Examples:
      opsctl incident note INC-42 "errors started with the 1.9.0 deploy"
      opsctl incident note INC-42 --public --status identified "We found the cause and are fixing it."
    """
    from opsctl.incidents.lifecycle import add_note

    application = app_of(ctx)
    change = add_note(application.workspace(), incident, text, public=public, public_status=status)
    print_change(application, change)


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    incident: str = INCIDENT,
    cause: str = typer.Option(..., "--cause", help="What caused it (seeds the post-mortem; never public)."),
    postmortem_date: str | None = typer.Option(
        None, "--postmortem-date", help="P0/P1: the post-mortem day, within 5 business days (default: the 5th)."
    ),
    public_message: str | None = typer.Option(
        None, "--public-message", help="What the status page says (default: 'This incident has been resolved.')."
    ),
) -> None:
    """Resolve an incident; P0 and P1 incidents then need a post-mortem within 5 business days.

    The page's alert is resolved, a public incident resolved with its
    components back to operational, the ticket closed, the channel told.

    \b
    Examples:
      opsctl incident resolve INC-42 --cause "1.9.0 exhausted the DB pool; rolled back"
      opsctl incident resolve INC-42 --cause "bad deploy" --postmortem-date 2026-12-02
    """
    from opsctl.incidents.lifecycle import resolve as resolve_incident

    application = app_of(ctx)
    change = resolve_incident(
        application.workspace(), incident, cause, postmortem_date=postmortem_date, public_message=public_message
    )
    print_change(application, change)


@app.command("escalate")
def escalate(ctx: typer.Context, incident: str = INCIDENT) -> None:
    """Page the next level: the secondary on call, then the escalation contact.

    With oncall.pagerduty, PagerDuty's incident moves to the next escalation
    level; the people are also invited to the incident's Slack channel. An
    escalation that reached nobody fails (exit 1): call them by hand.

    \b
    Example:
      opsctl incident escalate INC-42
    """
    from opsctl.incidents.escalation import escalate as escalate_incident

    application = app_of(ctx)
    print_change(application, escalate_incident(application.workspace(), incident))


@app.command("list")
def list_(
    ctx: typer.Context,
    open_only: bool = typer.Option(False, "--open", help="Only incidents not resolved yet."),
    env: str | None = typer.Option(
        None, "--env", "-e", autocompletion=complete_env, help="Only incidents concerning this environment."
    ),
    postmortems_due: bool = typer.Option(
        False, "--postmortems-due", help="Only resolved P0/P1 incidents whose post-mortem day has passed."
    ),
) -> None:
    """Incidents, oldest first, with time to acknowledge and to resolve against their targets.

    An incident nobody acknowledged by its response deadline (P0 immediate,
    P1 15m, P2 1h, P3 4h) is marked NO ACK.

    \b
    Examples:
      opsctl incident list --open
      opsctl incident list --postmortems-due
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
    if postmortems_due:
        found = [i for i in found if i.postmortem_overdue(now)]
    if application.json:
        application.output.json_document([i.as_dict(now) for i in found])
        return
    if not found:
        empty = "no overdue post-mortems" if postmortems_due else "no incidents recorded yet"
        application.output.show("no open incidents" if open_only and not postmortems_due else empty)
        return
    from rich.markup import escape

    from opsctl.cli.tables import INCIDENT_COLUMNS, fit_table

    rows = [
        [
            i.id,
            i.severity.value,
            i.status,
            when(i.opened_at),
            ", ".join(i.envs) or "-",
            escape(i.title),
            measure(i.acknowledge_measure(now)),
            measure(i.resolve_measure(now)),
            flag(i, now),
        ]
        for i in found
    ]
    application.output.show(fit_table(INCIDENT_COLUMNS, rows, application.output.console.width))


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
    headline(application, i)
    out.show(f"  respond by {when(i.respond_by)} ({i.policy.respond_text})")
    out.show(f"  time to acknowledge {measure(i.acknowledge_measure(now), long=True)}")
    out.show(f"  time to resolve     {measure(i.resolve_measure(now), long=True)}")
    if i.cause:
        out.show(f"  cause: {escape(i.cause)}")
    postmortem_line(application, i)
    table = Table(title="timeline (UTC)", title_justify="left")
    for column in ("time", "who", "what"):
        table.add_column(column, overflow="fold")
    for entry in report.timeline:
        table.add_row(when(entry.at, seconds=True), escape(entry.actor), escape(entry.what))
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
    # The change goes on even when the page failed (the fix matters more), but the failure is shown loudly.
    show_change(application, change)
    if change.failed_page:
        from rich.markup import escape

        application.output.show(f"[bold red]! {escape(change.failed_page)}[/]")
