"""``opsctl deploy``, ``rollback``, ``hotpatch`` and ``resume``: the runbooks as commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from opsctl.cli.common import app_of
from opsctl.cli.completion import complete_env, complete_incident, complete_release, complete_run

if TYPE_CHECKING:
    from opsctl.engine.request import RunRequest

DRY_RUN = typer.Option(False, "--dry-run", help="Do every read and gate, print the plan, change nothing.")
YES = typer.Option(False, "--yes", "-y", help="Do not ask to type a protected environment's name (CI).")
CONFIRM = typer.Option(None, "--confirm", help="Mark a manual gate as done (repeatable), e.g. --confirm security-scan.")
NO_ROLLBACK = typer.Option(False, "--no-rollback", help="Do not roll back automatically when verification fails.")
TIMEOUT = typer.Option("15m", "--timeout", help="How long the rollout may take, e.g. 90s, 15m.")
REASON = typer.Option(
    None, "--reason", help="Why: recorded in the audit log (impact, ticket); also a --waive's reason."
)
WAIVE = typer.Option(
    None,
    "--waive",
    help="Let a manual gate through without it being done; needs --reason and --approved-by.",
)
WAIVE_APPROVER = typer.Option(None, "--approved-by", help="Who agreed to the --waive (not you).")


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
    env: str = typer.Argument(..., autocompletion=complete_env, help="Environment to deploy to, e.g. staging."),
    image: str = typer.Option(..., "--image", "-i", help="Image to deploy, e.g. hvb:1.8.0."),
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    confirm: list[str] | None = CONFIRM,
    no_rollback: bool = NO_ROLLBACK,
    timeout: str = TIMEOUT,
    reason: str | None = REASON,
    approved_by: list[str] | None = typer.Option(
        None, "--approved-by", help="Approver of a normal change, and of any --waive (not you)."
    ),
    supervisor: str | None = typer.Option(None, "--supervisor", help="Who supervised (onboarding)."),
    strategy: str | None = typer.Option(None, "--strategy", help="Fly: rolling, canary or immediate."),
    waive: list[str] | None = WAIVE,
) -> None:
    """Deploy an image: gates, rollout, verification; automatic rollback on failure.

    Exit 0 verified, 1 failed (and rolled back), 2 bad input, 3 rollback failed (needs a human), 4 locked.

    \b
    Examples:
      opsctl deploy staging --image hvb:1.8.0
      opsctl deploy staging --image hvb:1.8.0 --dry-run
      opsctl deploy production --image hvb:1.8.0 --approved-by lead@example.com --yes --json
      opsctl deploy staging --image hvb:1.8.0 --waive performance-tests --reason "no load env" --approved-by ann
    """
    from opsctl.engine.request import RunRequest, make_waivers

    request = RunRequest.build(
        image=image,
        timeout=timeout,
        reason=reason,
        approved_by=approved_by or [],
        supervisor=supervisor,
        strategy=strategy,
        confirmations=confirm or (),
        waivers=make_waivers(waive or (), reason=reason, approved_by=approved_by),
    )
    _run(ctx, "deploy", env, request, dry_run=dry_run, yes=yes, no_rollback=no_rollback)


def rollback(
    ctx: typer.Context,
    env: str = typer.Argument(..., autocompletion=complete_env, help="Environment to roll back, e.g. production."),
    to: str | None = typer.Option(
        None,
        "--to",
        autocompletion=complete_release,
        help="Release to put back (id or image); default: last verified.",
    ),
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    confirm: list[str] | None = CONFIRM,
    timeout: str = TIMEOUT,
    reason: str | None = REASON,
    incident: str | None = typer.Option(
        None, "--incident", autocompletion=complete_incident, help="Incident this rollback answers, e.g. INC-42."
    ),
    force_target: bool = typer.Option(
        False,
        "--force-target",
        help="With --to: roll back even to a release that failed verification or was rolled back.",
    ),
    waive: list[str] | None = WAIVE,
    approved_by: list[str] | None = WAIVE_APPROVER,
) -> None:
    """Roll back to the last verified release (or --to), then verify it.

    The plan (and --dry-run) names the target, why it was chosen and the diff.
    With no verified release to go back to, it stops and asks for --to.

    \b
    Examples:
      opsctl rollback production
      opsctl rollback staging --to hvb-staging:41 --reason "login errors"
      opsctl rollback production --incident INC-42 --yes
    """
    from opsctl.actions.rollback_target import FORCE_KEY
    from opsctl.engine.request import RunRequest, make_waivers
    from opsctl.errors import BadInput

    if force_target and not to:
        raise BadInput("--force-target needs --to RELEASE: it only lets you name a release known to be bad")
    params: dict[str, Any] = {"to": to, "timeout": timeout, "reason": reason, "incident": incident}
    if force_target:
        params[FORCE_KEY] = True  # journaled with the run's params: a resumed run insists too
    waivers = make_waivers(waive or (), reason=reason, approved_by=approved_by)
    request = RunRequest.from_params(params, confirmations=confirm or (), waivers=waivers)
    _run(ctx, "rollback", env, request, dry_run=dry_run, yes=yes, no_rollback=True)


def hotpatch(
    ctx: typer.Context,
    env: str = typer.Argument(..., autocompletion=complete_env, help="Environment to patch, e.g. production."),
    image: str = typer.Option(..., "--image", "-i", help="Patched image, e.g. hvb:1.8.1."),
    incident: str | None = typer.Option(
        None, "--incident", autocompletion=complete_incident, help="Incident id (required), e.g. INC-42."
    ),
    severity: str | None = typer.Option(
        None, "--severity", help="With --incident new (opens one for this change): P0, P1, P2 or P3."
    ),
    title: str | None = typer.Option(None, "--title", help="With --incident new: what is wrong, in a few words."),
    dry_run: bool = DRY_RUN,
    yes: bool = YES,
    confirm: list[str] | None = CONFIRM,
    no_rollback: bool = NO_ROLLBACK,
    timeout: str = TIMEOUT,
    reason: str | None = REASON,
    waive: list[str] | None = WAIVE,
    approved_by: list[str] | None = WAIVE_APPROVER,
) -> None:
    """Emergency change for an open incident: short gates, rollout, verification, automatic rollback.

    \b
    Examples:
      opsctl hotpatch production --image hvb:1.8.1 --incident INC-42 --reason "fix booking crash"
      opsctl hotpatch production --image hvb:1.8.1 --incident new --severity P1 --title "bookings fail"
    """
    from dataclasses import replace

    from opsctl.cli.incident_cmd import print_opened
    from opsctl.engine.request import RunRequest, make_waivers
    from opsctl.incidents.emergency import open_for_change

    # The core refuses an emergency change without an open incident (exit 2, before anything runs).
    request = RunRequest.build(
        image=image,
        timeout=timeout,
        reason=reason,
        incident=incident,
        confirmations=confirm or (),
        waivers=make_waivers(waive or (), reason=reason, approved_by=approved_by),
    )
    application = app_of(ctx)
    opened = open_for_change(
        application.workspace(), request.incident, severity=severity, title=title, env=env, dry_run=dry_run
    )
    if opened is not None:
        print_opened(application, opened)
        request = replace(request, incident=opened.incident.id)
    _run(ctx, "hot-patch", env, request, dry_run=dry_run, yes=yes, no_rollback=no_rollback)


def resume(
    ctx: typer.Context,
    run: str | None = typer.Argument(
        None,
        autocompletion=complete_run,
        help="Run id, from `opsctl runs` or the interrupted run's message; none: offer the latest interrupted.",
    ),
    yes: bool = YES,
    confirm: list[str] | None = CONFIRM,
    waive: list[str] | None = WAIVE,
    reason: str | None = typer.Option(None, "--reason", help="Why the --waive gates may go ahead without being done."),
    approved_by: list[str] | None = WAIVE_APPROVER,
) -> None:
    """Continue an interrupted run from its first unfinished step (re-reads the platform first).

    Refused (exit 2) when another run changed the environment since. Without
    RUN, in a terminal, it shows the latest interrupted run and asks y/n;
    without a terminal (or with --yes) it exits 2 naming the run id to pass.

    \b
    Examples:
      opsctl resume r20261127-101500-1a2b3c
      opsctl resume
    """
    from opsctl.engine.request import make_waivers
    from opsctl.runs import resume as resume_run

    waivers = make_waivers(waive or (), reason=reason, approved_by=approved_by)
    application = app_of(ctx)
    if run is None:
        run = _offer_interrupted(application, yes=yes)
    options = _options(application, yes=yes)
    result = resume_run(application.workspace(), run, options, confirmations=frozenset(confirm or ()), waivers=waivers)
    _finish(application, result)


def _offer_interrupted(application: Any, *, yes: bool) -> str:
    """The latest interrupted run's id, once a person said y; BadInput naming it when nobody can be asked.

    Never resumes an unnamed run unasked: --yes skips typing a protected
    environment's name, it does not choose which change to continue.
    """
    from rich.markup import escape

    from opsctl.audit.query import describe_run
    from opsctl.errors import BadInput
    from opsctl.runs import latest_interrupted

    found = latest_interrupted(application.workspace())
    if found is None:
        raise BadInput("no interrupted run to resume (see `opsctl runs`)")
    started = f"{found.started[:16].replace('T', ' ')} UTC"
    what = f"run {found.run} ({describe_run(found)} in {found.env}, started {started})"
    if yes or not application.is_tty or application.json:
        raise BadInput(
            f"no run named; the latest interrupted run is {what}: resume it with `opsctl resume {found.run}`"
        )
    from rich.prompt import Confirm

    application.output.show(f"latest interrupted run: {escape(what)}")
    if not Confirm.ask("  resume it?", console=application.console, default=False):
        application.output.show(f"not resumed: run {escape(found.run)} stays interrupted")
        raise typer.Exit(0)
    return found.run


def register(app: typer.Typer) -> None:
    for command in (deploy, rollback, hotpatch, resume):
        app.command()(command)
