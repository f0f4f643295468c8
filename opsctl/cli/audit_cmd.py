"""``opsctl audit show`` and ``opsctl audit verify``."""

from __future__ import annotations

import json
import sys

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
) -> None:
    """Show audit events (newest last); --json prints the raw events, one per line.

    \b
    Examples:
      opsctl audit show --env production --since 7d
      opsctl --json audit show --run r20261127-101500-1a2b3c
    """
    from opsctl.audit import parse_ts
    from opsctl.durations import parse_duration
    from opsctl.errors import BadInput

    application = app_of(ctx)
    ws = application.workspace()
    cutoff = None
    if since is not None:
        try:
            cutoff = ws.clock().timestamp() - parse_duration(since)
        except ValueError:
            raise BadInput(f"--since {since}: must be a duration like 30s or 5m, 12h, 7d") from None
    events = [
        e for e in ws.audit.events()
        if (run is None or e.get("run") == run)
        and (env is None or e.get("env") == env)
        and (cutoff is None or parse_ts(str(e.get("ts"))).timestamp() >= cutoff)
    ][-limit:]  # fmt: skip
    if application.json:
        for event in events:
            sys.stdout.write(json.dumps(event) + "\n")
        return
    if not events:
        application.console.print("no audit events match")
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table()
    for column in ("time", "run", "env", "actor", "step", "status", "summary"):
        table.add_column(column, overflow="fold")
    for e in events:
        table.add_row(str(e.get("ts", ""))[:19].replace("T", " "), str(e.get("run")), str(e.get("env")),
                      escape(str(e.get("actor"))), escape(str(e.get("step"))), str(e.get("status")),
                      escape(str(e.get("summary", ""))))  # fmt: skip
    application.console.print(table)


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Check the hash chain: exit 0 when intact, 1 naming the first bad line and why.

    \b
    Example:
      opsctl audit verify
    """
    application = app_of(ctx)
    ws = application.workspace()
    result = ws.audit.verify()
    if application.json:
        print_json({"ok": result.ok, "events": result.events, "bad_line": result.bad_line,
                    "reason": result.reason, "truncated_tail": result.truncated_tail,
                    "head": result.head, "path": str(ws.audit.path)})  # fmt: skip
    elif result.ok:
        application.console.print(f"[green]✓[/] {result.message} ({ws.audit.path})")
    else:
        typer.echo(f"{ws.audit.path}: {result.message}", err=True)
    raise typer.Exit(0 if result.ok else 1)
