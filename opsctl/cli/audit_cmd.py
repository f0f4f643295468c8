"""``opsctl audit show``, ``opsctl audit verify``, ``opsctl audit push`` and ``opsctl audit reindex``."""

from __future__ import annotations

import typer

from opsctl.cli.common import app_of
from opsctl.cli.completion import complete_env, complete_run

app = typer.Typer(help="Read and verify the tamper-evident audit log.", no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    run: str | None = typer.Option(None, "--run", autocompletion=complete_run, help="Only this run id."),
    env: str | None = typer.Option(None, "--env", "-e", autocompletion=complete_env, help="Only this environment."),
    since: str | None = typer.Option(
        None, "--since", help="Only events newer than this: a duration like 7d, 12h, or a date like 2026-11-01."
    ),
    step: str | None = typer.Option(None, "--step", help="Only this step, e.g. run or pre-deploy/tests."),
    status: str | None = typer.Option(None, "--status", help="Only this status, e.g. failed."),
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many (newest) events."),
    remote: bool = typer.Option(False, "--remote", help="Everyone's events, from the S3 audit mirror (audit.s3)."),
) -> None:
    """Show audit events (newest last); --json prints the raw events, one per line.

    \b
    Examples:
      opsctl audit show --env production --since 7d
      opsctl audit show --step run --status failed
      opsctl --json audit show --run r20261127-101500-1a2b3c
      opsctl audit show --remote --since 1d
    """
    from opsctl.audit.query import EventFilter, find_events, parse_since

    application = app_of(ctx)
    ws = application.workspace()
    cutoff = parse_since(since, ws.clock()) if since is not None else None
    wanted = EventFilter(run=run, env=env, since=cutoff, step=step, status=status)
    store = None
    if remote:
        from opsctl.audit.mirror.remote import RemoteStore

        store = RemoteStore.for_site(ws.mirror_site())
    events = find_events(ws.audit, wanted, limit=limit, remote=store)
    if application.json:
        for event in events:
            application.output.json_line(event)
        summary = {"event": "audit.show.finished", "ok": True, "exit_code": 0, "events": len(events)}
        application.output.json_line(summary)  # the last line, as every JSON Lines command ends
        return
    if not events:
        application.output.show("no audit events match")
        return
    from opsctl.cli.audit_views import events_view

    # One run's events under one heading: its run, runbook, env, actor and ARN are said once, not per row.
    application.output.show(events_view(events, application.output.console.width, by_run=run is not None))


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

        central = verify_remote(ws.mirror_site())
    ok = result.ok and (central is None or central.ok)
    if application.json:
        application.output.json_document(
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
        application.output.show(f"[green]✓[/] {result.message} ({ws.audit.path})")
    else:
        application.output.text(f"{ws.audit.path}: {result.message}", err=True)
    if central is not None and central.ok:
        application.output.show(f"[green]✓[/] {central.message}")
    elif central is not None:
        for problem in central.problems:
            application.output.text(f"remote: {problem}", err=True)
        if central.more_problems:
            application.output.text(f"remote: ... and {central.more_problems} more", err=True)
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
    result = Mirror(application.workspace().mirror_site()).flush()
    if application.json:
        application.output.json_document(
            {
                "uploaded": list(result.uploaded),
                "checkpoint": result.checkpoint,
                "behind": result.behind,
                "error": result.error,
            }
        )
    elif result.error is None:
        done = f"uploaded {len(result.uploaded)} run(s)" if result.uploaded else "nothing queued"
        application.output.show(done + (f"; checkpoint {result.checkpoint}" if result.checkpoint else ""))
    else:
        application.output.error(f"audit mirror still {result.behind} run(s) behind: {result.error}", 1)
    raise typer.Exit(0 if result.error is None else 1)


@app.command("reindex")
def reindex(ctx: typer.Context) -> None:
    """Rebuild the audit index (<state_dir>/index.sqlite) from the audit log.

    The index lets status, runs, releases, incident list and report answer
    without reading the whole log; it is checked against the log before
    every use and rebuilt by itself when it no longer matches, so this is
    only needed to pay that cost now (after restoring a log, say).

    \b
    Example:
      opsctl audit reindex
    """
    import time

    from opsctl.audit.index import reindex as rebuild

    application = app_of(ctx)
    ws = application.workspace()
    started = time.monotonic()
    done = rebuild(ws.audit.path)
    seconds = round(time.monotonic() - started, 3)
    if application.json:
        application.output.json_document(
            {"path": str(done.path), "runs": done.runs, "lines": done.lines, "bytes": done.covered, "seconds": seconds}
        )
        return
    if not done.covered:
        application.output.show(f"no audit events yet ({ws.audit.path}): the index is empty")
        return
    application.output.show(
        f"[green]✓[/] audit index rebuilt: {done.runs:,} runs, {done.lines:,} events "
        f"({done.covered / 1e6:,.1f} MB of log) in {seconds:.1f}s ({done.path})"
    )
