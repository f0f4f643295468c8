"""``opsctl lock status | release | init``."""

from __future__ import annotations

import typer

from opsctl.cli.common import app_of, print_json

app = typer.Typer(help="See or break an environment's deploy lock.", no_args_is_help=True)


@app.command("status")
def status(ctx: typer.Context, env: str = typer.Argument(..., help="Environment, e.g. production.")) -> None:
    """Who holds the environment's lock, and since when (exit 0 either way).

    \b
    Example:
      opsctl lock status production
    """
    from opsctl.locks import make_lock_backend

    application = app_of(ctx)
    ws = application.workspace()
    ws.config.environment(env)
    holder = make_lock_backend(ws.config).status(env)
    if application.json:
        print_json({"env": env, "locked": holder is not None, "holder": holder.as_dict() if holder else None})
    elif holder is None:
        application.console.print(f"{env} is not locked")
    else:
        application.console.print(f"{env} is locked by {holder.describe()} (lock id {holder.lock_id})")


@app.command("release")
def release(
    ctx: typer.Context,
    env: str = typer.Argument(..., help="Environment, e.g. production."),
    force: bool = typer.Option(False, "--force", help="Required: breaking a lock is deliberate."),
    lock_id: str | None = typer.Option(None, "--id", help="The exact lock id (from `opsctl lock status`)."),
) -> None:
    """Break a stuck lock (audited). Only when its run is gone or hung.

    \b
    Example:
      opsctl lock release production --force --id r20261127-101500-1a2b3c
    """
    from opsctl.errors import BadInput
    from opsctl.locks import make_lock_backend

    application = app_of(ctx)
    ws = application.workspace()
    ws.config.environment(env)
    if not force:
        raise BadInput(f"breaking {env}'s lock needs --force (see `opsctl lock status {env}` first)")
    if lock_id is None and ws.config.locks.backend == "dynamodb":
        # A shared lock may have changed hands since you looked: name the one you mean to break.
        raise BadInput(
            f"breaking {env}'s shared lock needs --id LOCK_ID, exactly as `opsctl lock status {env}` shows it"
        )
    backend = make_lock_backend(ws.config)
    holder = backend.status(env)
    if holder is None:
        application.console.print(f"{env} is not locked; nothing to release")
        return
    if lock_id is not None and lock_id != holder.lock_id:
        raise BadInput(f"--id {lock_id} does not match the lock held ({holder.lock_id}); nothing was released")
    removed = backend.force_release(env, lock_id or holder.lock_id)
    journal = ws.journal(ws.new_run_id(), "lock.release", env)
    journal.event(
        "lock.release", "passed", summary=f"lock broken by {ws.actor}", holder=removed.as_dict() if removed else None
    )
    ws.run_finished(journal.run)
    application.console.print(f"released {env}'s lock (was {holder.describe()}); recorded in the audit log")


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
        typer.echo(table_snippet(config.locks), nl=False)
        return
    message = create_table(config.locks)
    if application.json:
        print_json({"table": config.locks.table, "message": message})
    else:
        typer.echo(message)
