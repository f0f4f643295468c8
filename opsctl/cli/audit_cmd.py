"""``opsctl audit show``, ``opsctl audit verify`` and ``opsctl audit push``."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from opsctl.cli.common import app_of, print_json

app = typer.Typer(help="Read and verify the tamper-evident audit log.", no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    run: str | None = typer.Option(None, "--run", help="Only this run id."),
    env: str | None = typer.Option(None, "--env", "-e", help="Only this environment."),
    since: str | None = typer.Option(None, "--since", help="Only events newer than this, e.g. 7d, 12h."),
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many (newest) events."),
    remote: bool = typer.Option(False, "--remote", help="Everyone's events, from the S3 audit mirror (audit.s3)."),
) -> None:
    """Show audit events (newest last); --json prints the raw events, one per line.

    \b
    Examples:
      opsctl audit show --env production --since 7d
      opsctl --json audit show --run r20261127-101500-1a2b3c
      opsctl audit show --remote --since 1d
    """
    from opsctl.audit.log import parse_ts
    from opsctl.errors import BadInput
    from opsctl.values.durations import parse_duration

    application = app_of(ctx)
    ws = application.workspace()
    cutoff = None
    if since is not None:
        try:
            cutoff = ws.clock().timestamp() - parse_duration(since)
        except ValueError:
            raise BadInput(f"--since {since}: must be a duration like 30s or 5m, 12h, 7d") from None
    source: Any = ws.audit.events()
    if remote:
        from opsctl.audit.mirror.remote import merged_events, run_id_floor

        source = merged_events(
            ws,
            marks=(f'"run":{json.dumps(run)}'.encode(),) if run else (),
            since_run=run_id_floor(cutoff) if cutoff is not None else None,
        )
    events = [
        e
        for e in source
        if (run is None or e.get("run") == run)
        and (env is None or e.get("env") == env)
        and (cutoff is None or parse_ts(str(e.get("ts"))).timestamp() >= cutoff)
    ][-limit:]
    if application.json:
        for event in events:
            sys.stdout.write(json.dumps(event) + "\n")
        return
    if not events:
        application.console.print("no audit events match")
        return
    from rich.markup import escape
    from rich.table import Table

    # The AWS caller ARN sits beside the actor: the actor is what someone says, the ARN what AWS says.
    arns = any(e.get("caller_arn") for e in events)
    table = Table()
    for column in ("time", "run", "env", "actor", *(("aws identity",) if arns else ()), "step", "status", "summary"):
        table.add_column(column, overflow="fold")
    for e in events:
        identity = (escape(str(e.get("caller_arn") or "-")),) if arns else ()
        table.add_row(
            str(e.get("ts", ""))[:19].replace("T", " "),
            str(e.get("run")),
            str(e.get("env")),
            escape(str(e.get("actor"))),
            *identity,
            escape(str(e.get("step"))),
            str(e.get("status")),
            escape(str(e.get("summary", ""))),
        )
    application.console.print(table)


@app.command("verify")
def verify(
    ctx: typer.Context,
    remote: bool = typer.Option(
        False,
        "--remote",
        help="Also compare with the S3 audit mirror: finds a cut "
        "tail, a rewritten log, edited or missing central objects, bad signatures.",
    ),
) -> None:
    """Check the hash chain: exit 0 when intact, 1 naming the first bad line and why.

    \b
    Examples:
      opsctl audit verify
      opsctl audit verify --remote
    """
    application = app_of(ctx)
    ws = application.workspace()
    result = ws.audit.verify()
    central = None
    if remote:
        from opsctl.audit.mirror.verify import verify_remote

        central = verify_remote(ws)
    ok = result.ok and (central is None or central.ok)
    if application.json:
        print_json(
            {
                "ok": ok,
                "events": result.events,
                "bad_line": result.bad_line,
                "reason": result.reason,
                "truncated_tail": result.truncated_tail,
                "head": result.head,
                "path": str(ws.audit.path),
                **({"remote": central.as_dict()} if central is not None else {}),
            }
        )
        raise typer.Exit(0 if ok else 1)
    if result.ok:
        application.console.print(f"[green]✓[/] {result.message} ({ws.audit.path})")
    else:
        typer.echo(f"{ws.audit.path}: {result.message}", err=True)
    if central is not None and central.ok:
        application.console.print(f"[green]✓[/] {central.message}")
    elif central is not None:
        for problem in central.problems:
            typer.echo(f"remote: {problem}", err=True)
        if central.more_problems:
            typer.echo(f"remote: ... and {central.more_problems} more", err=True)
    raise typer.Exit(0 if ok else 1)


@app.command("push")
def push(ctx: typer.Context) -> None:
    """Upload the runs queued for the S3 audit mirror now (each run's end also tries).

    \b
    Example:
      opsctl audit push
    """
    from opsctl.audit.mirror.uploader import Mirror

    application = app_of(ctx)
    result = Mirror.for_workspace(application.workspace()).flush()
    if application.json:
        print_json(
            {
                "uploaded": list(result.uploaded),
                "checkpoint": result.checkpoint,
                "behind": result.behind,
                "error": result.error,
            }
        )
    elif result.error is None:
        done = f"uploaded {len(result.uploaded)} run(s)" if result.uploaded else "nothing queued"
        application.console.print(done + (f"; checkpoint {result.checkpoint}" if result.checkpoint else ""))
    else:
        typer.echo(f"error: audit mirror still {result.behind} run(s) behind: {result.error}", err=True)
    raise typer.Exit(0 if result.error is None else 1)
