"""``opsctl health ENV``: probe the bot's health and SLOs now, as a table (or JSON)."""

from __future__ import annotations

import typer

from opsctl.cli.common import app_of
from opsctl.cli.completion import complete_env

STYLES = {"passed": "green", "failed": "bold red", "warned": "yellow", "skipped": "dim"}


def health(
    ctx: typer.Context,
    env: str = typer.Argument(..., autocompletion=complete_env, help="Environment, e.g. production."),
) -> None:
    """Probe an environment now: liveness, served version, dependencies, synthetic request, SLOs.

    The expected version is the image tag of the release the platform runs.
    Exit 0 when no probe failed (warnings allowed), 1 when one did.

    \b
    Examples:
      opsctl health production
      opsctl --json health staging
    """
    from opsctl.status.health import probe_named_environment

    application = app_of(ctx)
    results = probe_named_environment(application.workspace(), env)
    ok = all(r.ok for r in results)
    if application.json:
        application.output.json_document({"env": env, "ok": ok, "probes": [r.as_dict() for r in results]})
    else:
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"health of {env}", title_justify="left")
        for column in ("probe", "value", "target", "verdict"):
            table.add_column(column)
        for r in results:
            table.add_row(
                r.probe, escape(r.value), escape(r.target), f"[{STYLES.get(r.verdict.value, '')}]{r.verdict.value}[/]"
            )
        application.output.show(table)
        for r in results:
            if not r.ok or r.verdict.value == "warned":
                application.output.show(f"  [{STYLES[r.verdict.value]}]{r.probe}[/]: {escape(r.summary)}")
    raise typer.Exit(0 if ok else 1)


def register(app: typer.Typer) -> None:
    app.command()(health)
