"""``opsctl status``, ``releases`` and ``runs``: what runs where, and what happened."""

from __future__ import annotations

from typing import Any

import typer

from opsctl.cli.common import app_of, print_json


def status(ctx: typer.Context, env: str = typer.Argument(..., help="Environment, e.g. staging.")) -> None:
    """Current release, lock holder, platform warnings and the last runs of an environment.

    \b
    Example:
      opsctl status production
    """
    from opsctl.status.environment import environment_status

    application = app_of(ctx)
    report = environment_status(application.workspace(), env)
    if application.json:
        print_json(report)
        return
    from rich.markup import escape

    console = application.console
    current = report["current"]
    console.print(f"[bold]{env}[/] · {escape(report['platform'])}")
    if current:
        console.print(f"  running  {escape(current['id'])} ({escape(current['image'])})")
    else:
        console.print(f"  running  [red]unknown[/]: {escape(report.get('platform_error') or '')}")
    verified = report["last_verified"]
    console.print(f"  verified {escape(verified['id'] + ' (' + verified['image'] + ')') if verified else '-'}")
    lock = report["lock"]
    console.print(f"  lock     {escape(lock['describe']) if lock else 'free'}")
    mirror = report.get("audit_mirror")
    if mirror is not None:
        console.print(f"  {escape(_mirror_line(mirror))}")
    for warning in report["warnings"]:
        console.print(f"  [yellow]! {escape(warning)}[/]")
    _runs_table(application, report["runs"])


def _mirror_line(mirror: dict[str, Any]) -> str:
    if not mirror["behind"]:
        return "audit mirror: up to date" + (f" ({mirror['last_error']})" if mirror.get("last_error") else "")
    runs = "run" if mirror["behind"] == 1 else "runs"
    line = f"audit mirror: {mirror['behind']} {runs} behind (queued since {mirror['oldest']})"
    return line + (f": {mirror['last_error']}" if mirror.get("last_error") else "")


REMOTE_HELP = "Read everyone's history from the S3 audit mirror (audit.s3)."


def _load(ws: Any, env: str | None, remote: bool) -> list[Any]:
    from opsctl.audit.query import load_remote_runs, load_runs

    return load_remote_runs(ws, env) if remote else load_runs(ws.audit.path, env)


def releases(
    ctx: typer.Context,
    env: str = typer.Argument(..., help="Environment, e.g. staging."),
    remote: bool = typer.Option(False, "--remote", help=REMOTE_HELP),
) -> None:
    """Release history of an environment, each marked verified / failed / rolled back.

    \b
    Examples:
      opsctl releases staging
      opsctl releases production --remote
    """
    from opsctl.audit.query import release_history

    application = app_of(ctx)
    ws = application.workspace()
    ws.config.environment(env)
    records = release_history(_load(ws, env, remote), env)
    if application.json:
        print_json([r.__dict__ for r in records])
        return
    from rich.table import Table

    table = Table(title=f"releases in {env} (newest first)", title_justify="left")
    for column in ("when", "release", "image", "verdict", "run", "actor"):
        table.add_column(column)
    styles = {"verified": "green", "failed": "red", "rolled back": "yellow"}
    for r in records:
        table.add_row(
            *_plain(r.when[:19].replace("T", " "), r.id, r.image), _styled(r.verdict, styles), *_plain(r.run, r.actor)
        )
    application.console.print(table if records else f"no releases recorded for {env} yet")


def runs(
    ctx: typer.Context,
    env: str | None = typer.Option(None, "--env", "-e", help="Only this environment."),
    limit: int = typer.Option(20, "--limit", min=1, help="At most this many (newest) runs."),
    remote: bool = typer.Option(False, "--remote", help=REMOTE_HELP),
) -> None:
    """Recent runs (deploys, rollbacks, hot-patches, checklists) from the audit log.

    \b
    Examples:
      opsctl runs --env production
      opsctl runs --remote
    """
    application = app_of(ctx)
    ws = application.workspace()
    if env is not None:
        ws.config.environment(env)
    found = [r.as_dict() for r in _load(ws, env, remote)][-limit:]
    if application.json:
        print_json(found)
        return
    _runs_table(application, found)


def _runs_table(application: Any, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    if not rows:
        application.console.print("no runs recorded yet")
        return
    table = Table()
    for column in ("started", "run", "runbook", "env", "actor", "image", "status"):
        table.add_column(column)
    styles = {
        "succeeded": "green",
        "failed": "red",
        "rolled_back": "yellow",
        "rollback_failed": "bold red",
        "interrupted": "magenta",
        "running": "cyan",
    }
    for r in rows:
        table.add_row(
            *_plain(
                str(r["started"])[:19].replace("T", " "),
                r["run"],
                r["runbook"],
                r["env"],
                r["actor"],
                str(r.get("image") or "-"),
            ),
            _styled(str(r["status"]), styles),
        )
    application.console.print(table)


def register(app: typer.Typer) -> None:
    for command in (status, releases, runs):
        app.command()(command)


def _plain(*cells: Any) -> list[str]:
    """Cells as literal text: an actor like ``dependabot[bot]`` is not Rich markup."""
    from rich.markup import escape

    return [escape(str(cell)) for cell in cells]


def _styled(text: str, styles: dict[str, str]) -> str:
    """``text`` in its style, if it has one (an empty ``[]...[/]`` is a Rich markup error)."""
    style = styles.get(text)
    return f"[{style}]{text}[/]" if style else text
