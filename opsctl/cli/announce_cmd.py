"""``opsctl announce ENV --window START/END``: tell stakeholders of a deployment window in advance, and record it."""

from __future__ import annotations

import typer

from opsctl.cli.common import app_of


def announce(
    ctx: typer.Context,
    env: str = typer.Argument(..., help="The environment the window is for, e.g. production."),
    window: str = typer.Option(
        ...,
        "--window",
        "-w",
        help="START/END: 2026-12-01T14:00/15:00, 2026-12-01T14:00Z/2026-12-01T15:30Z, 2026-12-01T14:00/90m, now/15:00.",
    ),
    image: str | None = typer.Option(None, "--image", "-i", help="The image to be deployed, e.g. hvb:1.8.0."),
    note: str | None = typer.Option(None, "--note", "-n", help="What changes, or a link to the plan (one line)."),
    tz: str | None = typer.Option(
        None, "--tz", help="IANA zone of times written without one, e.g. Europe/Berlin (default: UTC)."
    ),
) -> None:
    """Announce a deployment window: mail and post the notice now, and record it in the audit log.

    Times without a zone are UTC unless --tz names one; every message shows
    the window in UTC (and in --tz). A window may not lie in the past and
    lasts at most 24h. A normal change to a protected environment is refused
    unless an announced window covers it (with --image, only that image).
    Sent on every configured channel for notices (notify.email, notify.slack,
    notify.webhook); exit 1 when none accepted it (it is recorded, but does
    not open the window).

    \b
    Examples:
      opsctl announce production --window "2026-12-01T14:00/15:00" --image hvb:1.8.0
      opsctl announce production -w "2026-12-01T15:00/16:00" --tz Europe/Berlin --note "booking flow v2"
      opsctl --json announce staging --window now/30m
    """
    from opsctl.runs.windows import announce_window, window_summary

    application = app_of(ctx)
    announced = announce_window(application.workspace(), env, window, image=image, note=note, zone=tz)
    out = application.output
    if application.json:
        out.json_document(announced.as_dict())
    else:
        from rich.markup import escape

        out.show(f"[bold]📣 {escape(window_summary(announced))}[/]")
        for delivery in announced.deliveries:
            mark = {"sent": "[green]✓[/]", "warned": "[yellow]![/]"}.get(delivery.status, "-")
            out.show(f"  {mark} {escape(delivery.summary)}")
        out.show(f"  recorded as run {announced.run}")
    if not announced.delivered:
        from opsctl.errors import RunFailed

        raise RunFailed(
            f"the window for {env} is recorded (run {announced.run}) but no channel accepted the notice; "
            "tell the stakeholders by hand, or fix the channel and announce again"
        )


def register(app: typer.Typer) -> None:
    app.command()(announce)
