"""``opsctl onboard`` and ``opsctl onboard status``: a new engineer's weeks 1..3 and the ongoing items."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from opsctl.cli.common import app_of

if TYPE_CHECKING:
    from opsctl.cli.application import Application
    from opsctl.onboarding import ItemProgress, OnboardingRun, Progress

app = typer.Typer()  # the help is the callback's docstring

WHO = typer.Option(None, "--who", help="The person onboarding (default: you, as OPSCTL_ACTOR or git user.email).")
ICONS = {"done": "[green]✓[/]", "skipped": "[dim]↷[/]", "open": "[dim]·[/]"}


@app.callback(invoke_without_command=True)
def onboard(
    ctx: typer.Context,
    week: str | None = typer.Option(
        None, "--week", "-w", help="1, 2, 3 or ongoing (default: the first week with open items)."
    ),
    who: str | None = WHO,
    confirm: list[str] | None = typer.Option(
        None, "--confirm", help="Mark a manual item as done (repeatable), e.g. --confirm read-runbooks."
    ),
) -> None:
    """Walk through your next open onboarding items; progress is kept per person.

    Manual items ask for confirmation (y / n / s to skip with a reason) and show
    the docs or commands that help; opsctl checks the rest itself: Python, git
    and opsctl installed, AWS credentials, `opsctl config check`, and your
    (supervised) staging deploys in the audit log. Without a terminal, pass
    --confirm ID for what is done. Exit 0 when nothing in the week failed, else 1.

    \b
    Examples:
      opsctl onboard
      opsctl onboard --week 2
      opsctl onboard --confirm read-runbooks --confirm architecture
      opsctl onboard status --who alice@example.com
    """
    if ctx.invoked_subcommand is not None:
        return
    from opsctl.cli.prompt import TerminalPrompter
    from opsctl.cli.views import make_view
    from opsctl.onboarding import parse_week, run_onboarding

    week = parse_week(week) if week is not None else None  # a bad --week is named before the config is read
    application = app_of(ctx)
    prompter = TerminalPrompter(application.console) if application.is_tty and not application.json else None
    outcome = run_onboarding(
        application.workspace(),
        who,
        week,
        confirmed=frozenset(confirm or ()),
        prompter=prompter,
        observer=make_view(application),
    )
    if application.json:
        # The summary that ends the JSON Lines (README "JSON output").
        application.output.json_line(
            {"event": "onboard.finished", **outcome.as_dict(), "exit_code": 0 if outcome.ok else 1}
        )
    else:
        again = _again(application, outcome.who)
        _verdict(application, outcome, again)
        _draw(application, outcome.progress, again, details=False)
    raise typer.Exit(0 if outcome.ok else 1)


@app.command("status")
def status(ctx: typer.Context, who: str | None = WHO) -> None:
    """Progress per week (a bar each) for a person, and what is next.

    \b
    Examples:
      opsctl onboard status
      opsctl --json onboard status --who alice@example.com
    """
    from opsctl.onboarding import onboarding_status

    application = app_of(ctx)
    parent = ctx.parent.params.get("who") if ctx.parent is not None else None
    progress = onboarding_status(application.workspace(), who or parent)
    if application.json:
        application.output.json_document(progress.as_dict())
        return
    _draw(application, progress, _again(application, progress.who), details=True)


def _again(application: Application, who: str) -> str:
    """The command that continues ``who``'s onboarding."""
    same = who.lower() == application.workspace().actor.strip().lower()
    return "opsctl onboard" if same else f"opsctl onboard --who {who}"


def _verdict(application: Application, outcome: OnboardingRun, again: str) -> None:
    out = application.output
    result = outcome.result
    if result is None:
        what = f"week {outcome.week} has nothing left to do" if outcome.week else "onboarding is complete"
        out.show(f"[green]✓[/] {what} for {_esc(outcome.who)}")
        return
    counts = ", ".join(f"{n} {k}" for k, n in result.counts().items() if n)
    verdict = {
        "passed": "[green]passed[/]",
        "warned": "[yellow]passed with warnings[/]",
        "failed": "[bold red]not done yet[/]",
    }[result.status.value]
    out.show(f"{_esc(result.title)}: {verdict} ({counts})")
    failed = [i.id for i in result.items if i.blocks]
    if failed:
        out.show(f"still open: {', '.join(failed)}; run `{_esc(again)}` again once they are done")


def _draw(application: Application, progress: Progress, again: str, *, details: bool) -> None:
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    out = application.output
    table = Table.grid(padding=(0, 2))
    for justify in ("left", "left", "left", "right", "left"):  # week, name, bar, n/m, state
        table.add_column(justify=justify, no_wrap=True)
    for week in progress.weeks:
        total = len(week.items)
        label = "Ongoing" if week.week == "ongoing" else f"Week {week.week}"
        name = week.title.split(":", 1)[-1].strip()
        following = week.next_item
        state = "[green]complete[/]" if week.complete else f"[dim]next: {following.id}[/]" if following else ""
        bar = ProgressBar(total=total, completed=week.resolved, width=20, complete_style="green")
        table.add_row(label, _esc(name), bar, f"{week.resolved}/{total}", state)
    out.show(f"[bold]Onboarding of {_esc(progress.who)}[/]")
    out.show(table)
    current = progress.next_week
    if current is None:
        out.show("[green]✓ every onboarding item is done[/]")
        return
    if details:
        out.show(f"[bold]{_esc(current.title)}[/]")
        for item in current.items:
            out.show(f" {ICONS.get(item.state, '·')} {_esc(item.title)} [dim]({item.id})[/]  {_item_note(item)}")
    nxt = current.next_item
    if nxt is not None:
        out.show(f"next: {_esc(nxt.title)} [dim]({nxt.id})[/] — run `{_esc(again)}`")


def _item_note(item: ItemProgress) -> str:
    when = (item.at or "")[:16].replace("T", " ")
    if item.state == "done":
        return f"[dim]{'checked' if item.machine else 'confirmed'} {when} by {_esc(item.by or '?')}[/]"
    if item.state == "skipped":
        return f"[dim]{_esc(item.summary)} ({when})[/]"
    if item.machine and item.last_status == "failed":
        return f"[red]last check: {_esc(item.last_summary)}[/]"
    return "[dim]checked by opsctl[/]" if item.machine else ""


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)
