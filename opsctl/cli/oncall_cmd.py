"""``opsctl oncall``: who is on call now (or at --at): primary, secondary, escalation, next handoff."""

from __future__ import annotations

from datetime import datetime

import typer

from opsctl.cli.common import app_of


def oncall(
    ctx: typer.Context,
    at: str | None = typer.Option(
        None,
        "--at",
        help="A moment, ISO 8601: 2026-12-01T10:00Z, or 2026-12-01 10:00 (in the rotation's zone, else UTC).",
    ),
) -> None:
    """Who is on call: primary, secondary and escalation, and the next handoff.

    From PagerDuty (oncall.pagerduty: levels 1 and 2 of the escalation
    policy) or the weekly rotation (oncall.rotation); the escalation is the
    contact named by oncall.escalation.

    \b
    Examples:
      opsctl oncall
      opsctl oncall --at 2026-12-24T22:00Z
      opsctl --json oncall
    """
    from opsctl.oncall.lookup import oncall_settings, who_is_on_call

    application = app_of(ctx)
    ws = application.workspace()
    settings = oncall_settings(ws.config)
    zone = settings.rotation.timezone if settings.rotation else None
    moment = ws.clock() if at is None else parse_moment(at, zone)
    found = who_is_on_call(ws.config, ws.redactor, moment)
    if application.json:
        application.output.json_document(found.as_dict())
        return
    from rich.markup import escape

    out = application.output
    source = {"pagerduty": "PagerDuty", "rotation": f"rotation ({zone})"}.get(found.source, found.source)
    out.show(f"[bold]on call[/] at {_when(found.at)} UTC · from {escape(source)}")
    out.show(f"  primary     {escape(found.primary_text)}")
    out.show(f"  secondary   {escape(', '.join(p.label for p in found.secondary) or '-')}")
    out.show(f"  escalation  {escape(found.escalation.label) if found.escalation else '-'}")
    if found.next_handoff is not None:
        local = ""
        if zone:
            from zoneinfo import ZoneInfo

            local = f" ({found.next_handoff.astimezone(ZoneInfo(zone)).strftime('%a %Y-%m-%d %H:%M %Z')})"
        out.show(f"  next handoff {_when(found.next_handoff)} UTC{escape(local)}")


def parse_moment(text: str, zone: str | None) -> datetime:
    """``--at`` as an aware datetime: a time without a zone is in the rotation's zone (else UTC)."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from opsctl.errors import BadInput

    cleaned = text.strip().replace(" ", "T", 1)
    shown = text if len(text) <= 40 else text[:37] + "..."
    try:
        if not cleaned.isprintable():  # fromisoformat lets a newline stand in for the "T"
            raise ValueError(text)
        moment = datetime.fromisoformat(cleaned[:-1] + "+00:00" if cleaned.upper().endswith("Z") else cleaned)
    except ValueError:
        raise BadInput(f"--at must be a time like 2026-12-01T10:00Z, not '{shown}'") from None
    # The rotation counts weeks from 1970 and looks a week ahead: years 1 and 9999 have no week around them.
    if not 1970 <= moment.year <= 9998:
        raise BadInput(f"--at must be a time between 1970 and 9998, not '{shown}'")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone) if zone else UTC)
    return moment.astimezone(UTC)


def _when(moment: datetime) -> str:
    from opsctl.audit.line import format_ts

    return format_ts(moment)[:16].replace("T", " ")


def register(app: typer.Typer) -> None:
    app.command()(oncall)
