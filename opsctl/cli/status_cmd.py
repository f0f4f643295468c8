"""``opsctl status``, ``releases`` and ``runs``: what runs where, and what happened."""

from __future__ import annotations

from typing import Any

import typer

from opsctl.cli.common import app_of
from opsctl.cli.completion import complete_env


def status(
    ctx: typer.Context, env: str = typer.Argument(..., autocompletion=complete_env, help="Environment, e.g. staging.")
) -> None:
    """Current release, lock holder, platform warnings and the last runs of an environment.

    \b
    Example:
      opsctl status production
    """
    from opsctl.status.environment import environment_status

    application = app_of(ctx)
    report = environment_status(application.workspace(), env)
    if application.json:
        application.output.json_document(report.as_dict())
        return
    from rich.markup import escape

    out = application.output
    current = report.current
    out.show(f"[bold]{env}[/] · {escape(report.platform)}")
    if current:
        out.show(f"  running  {escape(current.id)} ({escape(current.image)})")
    else:
        out.show(f"  running  [red]unknown[/]: {escape(report.platform_error or '')}")
    verified = report.last_verified
    out.show(f"  verified {escape(verified.id + ' (' + verified.image + ')') if verified else '-'}")
    out.show(f"  lock     {escape(report.lock.describe()) if report.lock else 'free'}")
    if report.oncall is not None:
        out.show(f"  on call  {escape(report.oncall.primary_text)}")
    if report.rollout is not None:
        _rollout_lines(out, report.rollout)
    if report.audit_mirror is not None:
        out.show(f"  {escape(_mirror_line(report.audit_mirror.as_dict()))}")
    for warning in report.warnings:
        out.show(f"  [yellow]! {escape(warning)}[/]")
    _runs_table(application, [r.as_dict() for r in report.runs])


def _rollout_lines(out: Any, rollout: dict[str, Any]) -> None:
    """Kubernetes: replicas, which images the pods run (mixed flagged), and the conditions not True."""
    from rich.markup import escape

    r = rollout["replicas"]
    out.show(
        f"  replicas {r['desired']} desired, {r['updated']} updated, {r['ready']} ready, {r['available']} available"
    )
    pods = ", ".join(f"{count} on {escape(image)}" for image, count in rollout["pods"].items()) or "none"
    mixed = "  [yellow](mixed images)[/]" if rollout["mixed_images"] else ""
    out.show(f"  pods     {pods}{mixed}")
    for c in rollout["conditions"]:
        colour = "green" if c.get("status") == "True" else "yellow"
        reason = f" {escape(str(c['reason']))}" if c.get("reason") else ""
        out.show(f"  [{colour}]{escape(str(c.get('type')))}={escape(str(c.get('status')))}[/]{reason}")


def _mirror_line(mirror: dict[str, Any]) -> str:
    if not mirror["behind"]:
        return "audit mirror: up to date" + (f" ({mirror['last_error']})" if mirror.get("last_error") else "")
    runs = "run" if mirror["behind"] == 1 else "runs"
    line = f"audit mirror: {mirror['behind']} {runs} behind (queued since {mirror['oldest']})"
    return line + (f": {mirror['last_error']}" if mirror.get("last_error") else "")


REMOTE_HELP = "Read everyone's history from the S3 audit mirror (audit.s3)."
RELEASES_SHOWN = 20  # `releases` without --limit or --all


def _load(ws: Any, env: str | None, remote: bool, *, last: int | None = None, runbooks: Any = None) -> list[Any]:
    """The runs (oldest first), each whose process is gone (kill -9) told as interrupted.

    ``last``/``runbooks``: only the newest that many, of those runbooks (read alone from the audit
    index; with ``remote``, from the mirror's partitions of a recent window first).
    """
    from opsctl.audit.mirror.remote import RemoteStore
    from opsctl.audit.query import load_remote_runs, load_runs
    from opsctl.runs.stale import Liveness, settle

    local = load_runs(ws.audit, env) if remote else load_runs(ws.audit, env, last=last, runbooks=runbooks)
    if not remote:
        return settle(local, Liveness.of(ws.config))
    runs = load_remote_runs(
        RemoteStore.for_site(ws.mirror_site()), ws.audit, env, last=last, runbooks=runbooks, now=ws.clock()
    )
    # File locks are this host's: they say nothing about the runs of other hosts.
    only = {r.run for r in local} if ws.config.locks.backend == "file" else None
    return settle(runs, Liveness.of(ws.config), only=only)


def releases(
    ctx: typer.Context,
    env: str = typer.Argument(..., autocompletion=complete_env, help="Environment, e.g. staging."),
    remote: bool = typer.Option(False, "--remote", help=REMOTE_HELP),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help=f"At most this many (newest) releases [default: {RELEASES_SHOWN}]."
    ),
    show_all: bool = typer.Option(False, "--all", help="Every release in the audit log (no --limit)."),
) -> None:
    """Release history of an environment, each marked verified / failed / rolled back.

    Shows the newest 20 unless --limit N or --all says otherwise.

    \b
    Examples:
      opsctl releases staging
      opsctl releases staging --limit 5
      opsctl releases production --all --remote
    """
    from opsctl.errors import BadInput

    if show_all and limit is not None:
        raise BadInput("--all and --limit: give one of them (--all shows every release)")
    application = app_of(ctx)
    ws = application.workspace()
    ws.config.environment(env)
    shown = None if show_all else (limit or RELEASES_SHOWN)
    records, more = _release_records(ws, env, remote, shown)
    if application.json:
        application.output.json_document([{**r.__dict__, "verdict": _status_word(r.verdict)} for r in records])
        return
    from opsctl.cli.tables import RELEASE_COLUMNS, fit_table

    styles = {"verified": "green", "failed": "red", "rolled_back": "yellow", "interrupted": "magenta"}
    rows = [
        [
            *_plain(r.when[:19].replace("T", " "), r.id, r.image),
            _styled(_status_word(r.verdict), styles),
            *_plain(r.run, r.actor),
        ]
        for r in records
    ]
    older = f"the newest {len(records)}; older ones: opsctl releases {env} --all (or --limit N)" if more else None
    title = f"releases in {env} (newest first)"
    table = fit_table(RELEASE_COLUMNS, rows, application.output.console.width, title=title, caption=older)
    application.output.show(table if records else f"no releases recorded for {env} yet")


def _release_records(ws: Any, env: str, remote: bool, limit: int | None) -> tuple[list[Any], bool]:
    """The newest ``limit`` releases (all when None), newest first, and whether older ones exist.

    Each release comes from one deploy, rollback or hot-patch run, so reading
    the newest such runs (more of them while some carry no release) gives the
    same records as the whole history would.
    """
    from opsctl.audit.query import DEPLOYING, release_history

    if limit is None:
        records = release_history(_load(ws, env, remote), env)
        return (records, False) if limit is None else (records[:limit], len(records) > limit)
    last = limit + 1
    while True:
        runs = _load(ws, env, remote, last=last, runbooks=DEPLOYING)
        records = release_history(runs, env)
        if len(records) > limit or len(runs) < last:
            return records[:limit], len(records) > limit
        last *= 4


def runs(
    ctx: typer.Context,
    env: str | None = typer.Option(None, "--env", "-e", autocompletion=complete_env, help="Only this environment."),
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
    found = [r.as_dict() for r in _load(ws, env, remote, last=limit)][-limit:][::-1]  # newest first, as releases
    if application.json:
        application.output.json_document(found)
        return
    _runs_table(application, found)


def _runs_table(application: Any, rows: list[dict[str, Any]]) -> None:
    from opsctl.cli.tables import RUN_COLUMNS, fit_table

    if not rows:
        application.output.show("no runs recorded yet")
        return
    styles = {
        "succeeded": "green",
        "failed": "red",
        "rolled_back": "yellow",
        "rollback_failed": "bold red",
        "interrupted": "magenta",
        "running": "cyan",
    }
    cells = [
        [
            *_plain(
                str(r["started"])[:19].replace("T", " "),
                r["run"],
                r["runbook"],
                r["env"],
                r["actor"],
                str(r.get("image") or "-"),
            ),
            _styled(str(r["status"]), styles),
        ]
        for r in rows
    ]
    application.output.show(fit_table(RUN_COLUMNS, cells, application.output.console.width))


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


def _status_word(verdict: str) -> str:
    """A release verdict in the words of `opsctl runs` (``rolled back`` -> ``rolled_back``)."""
    return verdict.replace(" ", "_")
