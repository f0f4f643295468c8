"""``opsctl lock status | release | init``."""

from __future__ import annotations

from collections.abc import Callable

import typer

from opsctl.cli.application import Application
from opsctl.cli.common import app_of
from opsctl.cli.completion import complete_env

app = typer.Typer(help="See or break an environment's deploy lock.", no_args_is_help=True)


@app.command("status")
def status(
    ctx: typer.Context,
    env: str = typer.Argument(..., autocompletion=complete_env, help="Environment, e.g. production."),
) -> None:
    """Who holds the environment's lock, and since when (exit 0 either way).

    \b
    Example:
      opsctl lock status production
    """
    from opsctl.locks.admin import lock_holder

    application = app_of(ctx)
    holder = lock_holder(application.workspace().config, env)
    if application.json:
        application.output.json_document(
            {"env": env, "locked": holder is not None, "holder": holder.as_dict() if holder else None}
        )
    elif holder is None:
        application.output.show(f"{env} is not locked")
    else:
        application.output.show(f"{env} is locked by {holder.describe()} (lock id {holder.lock_id})")


@app.command("release")
def release(
    ctx: typer.Context,
    env: str = typer.Argument(..., autocompletion=complete_env, help="Environment, e.g. production."),
    force: bool = typer.Option(False, "--force", help="Required: breaking a lock is deliberate."),
    lock_id: str | None = typer.Option(None, "--id", help="The exact lock id (from `opsctl lock status`)."),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="Break it even if its run is still alive on this host (no typed confirmation)."
    ),
) -> None:
    """Break a stuck lock (audited). Only when its run is gone or hung.

    The run that held it stops before its next change (exit 3, naming you).
    A holder still alive on this host needs you to type the environment's
    name, or --yes.

    \b
    Example:
      opsctl lock release production --force --id r20261127-101500-1a2b3c
    """
    from opsctl.locks.admin import break_lock

    application = app_of(ctx)
    ws = application.workspace()
    journal = ws.journal(ws.new_run_id(), "lock.release", env)
    confirm = _typed_confirmation(application) if application.is_tty and not application.json else None
    result = break_lock(
        ws.config, journal, env, lock_id, force=force, yes=yes, confirm=confirm, finished=ws.run_finished
    )
    if result.holder is None:
        application.output.show(f"{env} is not locked; nothing to release")
    else:
        application.output.show(f"released {env}'s lock (was {result.holder.describe()}); recorded in the audit log")


def _typed_confirmation(application: Application) -> Callable[[str, str], bool]:
    """Asks the person at the terminal to type the environment's name before breaking a live run's lock."""

    def confirm(env: str, warning: str) -> bool:
        from rich.markup import escape
        from rich.prompt import Prompt

        output = application.output
        output.show(f"[bold yellow]{escape(warning)}[/]")
        typed = Prompt.ask(f"  type [bold]{escape(env)}[/] to break its lock", console=output.console)
        return typed.strip() == env

    return confirm


@app.command("init")
def init(
    ctx: typer.Context,
    print_only: bool = typer.Option(False, "--print", help="Print CloudFormation and IAM instead of creating."),
) -> None:
    """Create the DynamoDB lock table of `locks: {backend: dynamodb}` (or print how to).

    \b
    Examples:
      opsctl lock init
      opsctl lock init --print > opsctl-locks.cfn.yaml
    """
    from opsctl.errors import BadInput
    from opsctl.locks.dynamodb import create_table, table_snippet

    application = app_of(ctx)
    config = application.workspace().config
    if config.locks.backend != "dynamodb":
        raise BadInput(
            "locks.backend is file, which needs no setup; set locks: {backend: dynamodb, table: NAME} "
            "in opsctl.yaml first"
        )
    if print_only:
        application.output.text(table_snippet(config.locks), end="")
        return
    message = create_table(config.locks)
    if application.json:
        application.output.json_document({"table": config.locks.table, "message": message})
    else:
        application.output.text(message)
