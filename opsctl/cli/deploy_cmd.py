"""``opsctl deploy``, ``rollback``, ``hotpatch`` and ``resume``: the runbooks as commands."""

from __future__ import annotations

from typing import Any

import typer

from opsctl.cli.common import app_of

DRY_RUN = typer.Option(False, "--dry-run", help="Do every read and gate, print the plan, change nothing.")
YES = typer.Option(False, "--yes", "-y", help="Do not ask to type a protected environment's name (CI).")
CONFIRM = typer.Option(None, "--confirm", help="Mark a manual gate as done (repeatable), e.g. --confirm security-scan.")
NO_ROLLBACK = typer.Option(False, "--no-rollback", help="Do not roll back automatically when verification fails.")
TIMEOUT = typer.Option("15m", "--timeout", help="How long the rollout may take, e.g. 90s, 15m.")
REASON = typer.Option(None, "--reason", help="Why: recorded in the audit log (impact, ticket).")


def _seconds(text: str) -> float:
    from opsctl.errors import BadInput
    from opsctl.values.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError:
        raise BadInput(f"--timeout {text}: must be a duration like 90s or 15m") from None


def _run(
    ctx: typer.Context,
    runbook: str,
    env: str,
    params: dict[str, Any],
    *,
    dry_run: bool,
    yes: bool,
    confirm: list[str] | None,
    no_rollback: bool,
    extra: dict[str, Any] | None = None,
) -> None:
    from opsctl.runs.run import execute

    application = app_of(ctx)
    options = _options(
        application, dry_run=dry_run, yes=yes, confirm=confirm, no_rollback=no_rollback, extra=extra or {}
    )
    result = execute(application.workspace(), runbook, env, params, options)
    _finish(application, result)


def _options(application: Any, **kwargs: Any) -> Any:
    from opsctl.cli.prompt import TerminalPrompter
    from opsctl.cli.views import make_view
    from opsctl.runs.run import RunOptions

    interactive = application.is_tty and not application.json
    return RunOptions(
        dry_run=kwargs.get("dry_run", False),
        yes=kwargs.get("yes", False),
        no_rollback=kwargs.get("no_rollback", False),
        confirmed=frozenset(kwargs.get("confirm") or ()),
        prompter=TerminalPrompter(application.console) if interactive else None,
        observer=make_view(application),
        extra=kwargs.get("extra", {}),
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
    from opsctl.values.imageref import validate_image

    params = {
        "image": validate_image(image),
        "timeout": _seconds(timeout),
        "reason": reason,
        "approved_by": approved_by or [],
        "supervisor": supervisor,
        "strategy": strategy,
    }
    _run(ctx, "deploy", env, params, dry_run=dry_run, yes=yes, confirm=confirm, no_rollback=no_rollback)


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
    params = {"to": to, "timeout": _seconds(timeout), "reason": reason, "incident": incident}
    extra = {"incident": incident} if incident else {}
    _run(ctx, "rollback", env, params, dry_run=dry_run, yes=yes, confirm=confirm, no_rollback=True, extra=extra)


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
    from opsctl.errors import BadInput
    from opsctl.values.imageref import validate_image

    if not incident or not incident.strip():
        raise BadInput(
            "hotpatch needs --incident ID: emergency changes must be tied to an incident "
            "(open one with your incident process, e.g. INC-42)"
        )
    params = {
        "image": validate_image(image),
        "timeout": _seconds(timeout),
        "reason": reason,
        "incident": incident.strip(),
    }
    _run(
        ctx,
        "hot-patch",
        env,
        params,
        dry_run=dry_run,
        yes=yes,
        confirm=confirm,
        no_rollback=no_rollback,
        extra={"incident": incident.strip()},
    )


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
    from opsctl.runs.run import resume as resume_run

    application = app_of(ctx)
    result = resume_run(application.workspace(), run, _options(application, yes=yes, confirm=confirm))
    _finish(application, result)


def register(app: typer.Typer) -> None:
    for command in (deploy, rollback, hotpatch, resume):
        app.command()(command)
