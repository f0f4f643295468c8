"""``opsctl lock status | release``."""

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
    backend = make_lock_backend(ws.config)
    holder = backend.status(env)
    if holder is None:
        application.console.print(f"{env} is not locked; nothing to release")
        return
    if lock_id is not None and lock_id != holder.lock_id:
        raise BadInput(f"--id {lock_id} does not match the lock held ({holder.lock_id}); nothing was released")
    removed = backend.force_release(env, lock_id or holder.lock_id)
    journal = ws.journal(ws.new_run_id(), "lock.release", env)
    journal.event("lock.release", "passed", summary=f"lock broken by {ws.actor}",
                  holder=removed.as_dict() if removed else None)  # fmt: skip
    application.console.print(f"released {env}'s lock (was {holder.describe()}); recorded in the audit log")
