"""``opsctl checklist list | show | run``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from opsctl.cli.common import app_of, parse_sets
from opsctl.cli.completion import complete_checklist, complete_env

app = typer.Typer(help="List, show and run YAML checklists (gates).", no_args_is_help=True)


def _project_dir(ctx: typer.Context) -> Path | None:
    from opsctl.config import find_config
    from opsctl.errors import ConfigError

    try:
        return find_config(explicit=app_of(ctx).config_path).resolve().parent
    except ConfigError:
        return None  # built-ins are listed even outside a project


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List the checklists: built-in, and the project's own (which replace built-ins).

    \b
    Example:
      opsctl checklist list
    """
    from opsctl.engine.loader import load_checklist, sources

    application = app_of(ctx)
    project = _project_dir(ctx)
    rows: list[dict[str, Any]] = []
    for source in sources("checklists", project):
        loaded = load_checklist(source.name, project)
        rows.append(
            {
                "name": source.name,
                "origin": source.origin,
                "title": loaded.model.title,
                "items": len(loaded.model.items),
                "path": str(source.path),
            }
        )
    if application.json:
        application.output.json_document(rows)
        return
    from rich.table import Table

    table = Table()
    for column in ("name", "title", "items", "origin"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["name"]), str(row["title"]), str(row["items"]), str(row["origin"]))
    application.output.show(table)


@app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., autocompletion=complete_checklist, help="Checklist name, e.g. pre-deploy."),
) -> None:
    """Show a checklist's items: id, title, action and whether it blocks.

    \b
    Example:
      opsctl checklist show pre-deploy
    """
    from opsctl.engine.loader import load_checklist

    application = app_of(ctx)
    loaded = load_checklist(name, _project_dir(ctx))
    if application.json:
        application.output.json_document(
            {"name": name, "path": str(loaded.source.path), **loaded.model.model_dump(by_alias=True)}
        )
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{loaded.model.title} ({loaded.source.origin}: {loaded.source.path})", title_justify="left")
    for column in ("id", "title", "uses", "blocking", "with"):
        table.add_column(column)
    for item in loaded.model.items:
        with_ = ", ".join(f"{k}={v}" for k, v in item.with_.items())
        table.add_row(item.id, escape(item.title), item.uses, "yes" if item.blocking else "no", escape(with_))
    application.output.show(table)


@app.command("run")
def run(
    ctx: typer.Context,
    name: str = typer.Argument(..., autocompletion=complete_checklist, help="Checklist name, e.g. pre-deploy."),
    env: str | None = typer.Option(
        None, "--env", "-e", autocompletion=complete_env, help="Environment whose config the items use."
    ),
    confirm: list[str] | None = typer.Option(
        None, "--confirm", help="Mark a manual item as done (repeatable), e.g. --confirm code-review."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Run the reads; skip items that change things."),
    set_: list[str] | None = typer.Option(None, "--set", help="A template parameter, key=value (repeatable)."),
    waive: list[str] | None = typer.Option(
        None,
        "--waive",
        help="Let a manual item through without it being done; needs --reason and --approved-by.",
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why the --waive items may go ahead without being done."),
    approved_by: list[str] | None = typer.Option(None, "--approved-by", help="Who agreed to the --waive (not you)."),
) -> None:
    """Run a checklist and exit 0 when no blocking item failed, else 1.

    Every item and its outcome is written to the audit log. A blocking manual
    item is confirmed (in a terminal, or --confirm ID) or waived (--waive ID
    --reason TEXT --approved-by NAME); skipping it fails the checklist.

    \b
    Examples:
      opsctl checklist run pre-deploy --env staging
      opsctl checklist run pre-deploy --env production --confirm code-review --confirm perf-tests
      opsctl --json checklist run post-deploy --env staging
      opsctl checklist run pre-deploy --env staging --waive performance-tests --reason "no load env" --approved-by ann
    """
    from opsctl.cli.prompt import TerminalPrompter
    from opsctl.cli.render import print_checklist_result
    from opsctl.cli.views import make_view
    from opsctl.engine.request import make_waivers
    from opsctl.runs import run_named_checklist

    waivers = make_waivers(waive or (), reason=reason, approved_by=approved_by)
    application = app_of(ctx)
    ws = application.workspace()
    prompter = TerminalPrompter(application.console) if application.is_tty and not application.json else None
    result = run_named_checklist(
        ws,
        name,
        env,
        params=parse_sets(set_),
        dry_run=dry_run,
        confirmed=frozenset(confirm or ()),
        waivers=waivers,
        prompter=prompter,
        observer=make_view(application),
    )
    print_checklist_result(application, f"checklist:{name}", env, result)
    raise typer.Exit(0 if result.ok else 1)
