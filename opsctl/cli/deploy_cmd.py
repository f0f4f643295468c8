"""``opsctl deploy``, ``rollback``, ``hotpatch`` and ``resume``: the runbooks as commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from opsctl.cli.common import app_of

if TYPE_CHECKING:
    from opsctl.engine.request import RunRequest

DRY_RUN = typer.Option(False, "--dry-run", help="Do every read and gate, print the plan, change nothing.")
YES = typer.Option(False, "--yes", "-y", help="Do not ask to type a protected environment's name (CI).")
CONFIRM = typer.Option(None, "--confirm", help="Mark a manual gate as done (repeatable), e.g. --confirm security-scan.")
NO_ROLLBACK = typer.Option(False, "--no-rollback", help="Do not roll back automatically when verification fails.")
TIMEOUT = typer.Option("15m", "--timeout", help="How long the rollout may take, e.g. 90s, 15m.")
REASON = typer.Option(None, "--reason", help="Why: recorded in the audit log (impact, ticket).")


def _run(
    ctx: typer.Context, runbook: str, env: str, request: RunRequest, *, dry_run: bool, yes: bool, no_rollback: bool
) -> None:
    from opsctl.runs import execute

    application = app_of(ctx)
    options = _options(application, dry_run=dry_run, yes=yes, no_rollback=no_rollback)
    result = execute(application.workspace(), runbook, env, request, options)
    _finish(application, result)


def _options(application: Any, **kwargs: Any) -> Any:
    from opsctl.cli.prompt import TerminalPrompter
    from opsctl.cli.views import make_view
    from opsctl.runs import RunOptions

    interactive = application.is_tty and not application.json
    return RunOptions(
        dry_run=kwargs.get("dry_run", False),
        yes=kwargs.get("yes", False),
        no_rollback=kwargs.get("no_rollback", False),
        prompter=TerminalPrompter(application.console) if interactive else None,
        observer=make_view(application),
    )


def _finish(application: Any, result: Any) -> None:
    from opsctl.cli.render import print_run_result

    print_run_result(application, result)
    raise typer.Exit(int(result.exit_code))


def deploy(
    ctx: typer.Context,
    env: str = typer.Argument(..., help="Environment to deploy to, e.g. staging."),
    image: str = typer.Option(..., "--image", "-i", help="Image to deploy, e.g. hvb:1.8.0."),
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    confirm: list[str] | None = CONFIRM,
    no_rollback: bool = NO_ROLLBACK,
    timeout: str = TIMEOUT,
    reason: str | None = REASON,
    approved_by: list[str] | None = typer.Option(None, "--approved-by", help="Approver of a normal change."),
    supervisor: str | None = typer.Option(None, "--supervisor", help="Who supervised (onboarding)."),
    strategy: str | None = typer.Option(None, "--strategy", help="Fly: rolling, canary or immediate."),
) -> None:
    """Deploy an image: gates, rollout, verification; automatic rollback on failure.

    Exit 0 verified, 1 failed (and rolled back), 2 bad input, 3 rollback failed (needs a human), 4 locked.

    \b
    Examples:
      opsctl deploy staging --image hvb:1.8.0
      opsctl deploy staging --image hvb:1.8.0 --dry-run
      opsctl deploy production --image hvb:1.8.0 --approved-by lead@example.com --yes --json
    """
    from opsctl.engine.request import RunRequest

    request = RunRequest.build(
        image=image,
        timeout=timeout,
        reason=reason,
        approved_by=approved_by or [],
        supervisor=supervisor,
        strategy=strategy,
        confirmations=confirm or (),
    )
    _run(ctx, "deploy", env, request, dry_run=dry_run, yes=yes, no_rollback=no_rollback)


def rollback(
    ctx: typer.Context,
    env: str = typer.Argument(..., help="Environment to roll back, e.g. production."),
    to: str | None = typer.Option(None, "--to", help="Release to put back (id or image); default: last verified."),
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    confirm: list[str] | None = CONFIRM,
    timeout: str = TIMEOUT,
    reason: str | None = REASON,
    incident: str | None = typer.Option(None, "--incident", help="Incident this rollback answers, e.g. INC-42."),
) -> None:
    """Roll back to the last verified release (or --to), then verify it.

    \b
    Examples:
      opsctl rollback production
      opsctl rollback staging --to hvb-staging:41 --reason "login errors"
      opsctl rollback production --incident INC-42 --yes
    """
    from opsctl.engine.request import RunRequest

    request = RunRequest.build(to=to, timeout=timeout, reason=reason, incident=incident, confirmations=confirm or ())
    _run(ctx, "rollback", env, request, dry_run=dry_run, yes=yes, no_rollback=True)


def hotpatch(
    ctx: typer.Context,
    env: str = typer.Argument(..., help="Environment to patch, e.g. production."),
    image: str = typer.Option(..., "--image", "-i", help="Patched image, e.g. hvb:1.8.1."),
    incident: str | None = typer.Option(None, "--incident", help="Incident id (required), e.g. INC-42."),
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    confirm: list[str] | None = CONFIRM,
    no_rollback: bool = NO_ROLLBACK,
    timeout: str = TIMEOUT,
    reason: str | None = REASON,
) -> None:
    """Emergency change for an incident: short gates, rollout, verification, automatic rollback.

    \b
    Example:
      opsctl hotpatch production --image hvb:1.8.1 --incident INC-42 --reason "fix booking crash"
    """
    from opsctl.engine.request import RunRequest

    # The core refuses an emergency change without an incident (exit 2, before anything runs).
    request = RunRequest.build(
        image=image, timeout=timeout, reason=reason, incident=incident, confirmations=confirm or ()
    )
    _run(ctx, "hot-patch", env, request, dry_run=dry_run, yes=yes, no_rollback=no_rollback)


def resume(
    ctx: typer.Context,
    run: str = typer.Argument(..., help="Run id, from `opsctl runs` or the interrupted run's message."),
    yes: bool = YES,
    confirm: list[str] | None = CONFIRM,
) -> None:
    """Continue an interrupted run from its first unfinished step (re-reads the platform first).

    \b
    Example:
      opsctl resume r20261127-101500-1a2b3c
    """
    from opsctl.runs import resume as resume_run

    application = app_of(ctx)
    options = _options(application, yes=yes)
    result = resume_run(application.workspace(), run, options, confirmations=frozenset(confirm or ()))
    _finish(application, result)


def register(app: typer.Typer) -> None:
    for command in (deploy, rollback, hotpatch, resume):
        app.command()(command)
