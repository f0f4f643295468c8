"""Runbook operations: deploy, rollback, hot-patch and resume, with lock, journal and rollback.

One run = one run id, one lock on the environment, a ``run started`` event, the
steps, an automatic rollback when a step asks for it, and one terminal
``run`` event carrying the releases before and after. Exit codes follow
DESIGN section 6.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from opsctl.engine.context import RunContext
from opsctl.engine.gates import check_runbook_gate_ids
from opsctl.engine.loader import LoadedRunbook, load_runbook
from opsctl.engine.request import RunRequest
from opsctl.engine.runbook import StepsOutcome, changes_ahead, run_steps
from opsctl.errors import BadInput, Interrupted, Locked, NeedsHuman, OpsctlError
from opsctl.identity.ci import ci_fields
from opsctl.locks.base import LockLost
from opsctl.runs.announce import announce, announce_end
from opsctl.runs.confirm import confirm_guard
from opsctl.runs.fencing import lock_lost, platform_state
from opsctl.runs.github_deploy import run_aborted
from opsctl.runs.interrupt import journal_interrupted, journal_locked, stop_platform
from opsctl.runs.locking import lock_guard, locked
from opsctl.runs.policy import enforce
from opsctl.runs.result import Declined, RunOptions, RunResult
from opsctl.runs.rollback import run_rollback

if TYPE_CHECKING:
    from opsctl.locks.base import LockHandle
    from opsctl.workspace import Workspace


def execute(
    ws: Workspace,
    runbook_name: str,
    env: str,
    request: RunRequest | Mapping[str, Any],
    options: RunOptions,
) -> RunResult:
    """Start a new run of ``runbook_name`` in ``env``.

    ``request`` may be a params mapping (``{"image": "hvb:1.8.0"}``): it is
    validated here, so a malformed value is BadInput before anything runs.
    """
    if not isinstance(request, RunRequest):
        request = RunRequest.from_params(request)
    environment = ws.config.environment(env)
    if environment.protected and not (options.yes or options.dry_run or options.prompter):
        # Refuse before any gate runs: nobody could confirm at the deploy step either.
        raise BadInput(f"{env} is protected: run in a terminal to confirm by typing its name, or pass --yes")
    ws.identify_early(env)  # the STS round trip overlaps loading the runbook; the first event waits for it
    if runbook_name == "hot-patch":
        # The emergency procedure itself needs an open incident opened with opsctl (journaled as its
        # canonical id); a project's own emergency runbooks meet the freeze policy instead.
        from opsctl.incidents.emergency import require_open  # hot-patches only: a deploy never loads it

        request = replace(request, incident=require_open(ws.audit.path, request.incident).id)
    loaded = load_runbook(runbook_name, ws.config.project_dir)
    check_runbook_gate_ids(request, loaded, ws.config.project_dir)  # a mistyped --confirm id: exit 2 now
    run_id = ws.new_run_id()
    extra = {"change_type": loaded.model.change_type, **incident_extra(request), **options.extra}
    journal = ws.journal(run_id, runbook_name, env, **extra)
    ctx = ws.context(
        journal, env, request=request, dry_run=options.dry_run, prompter=options.prompter, observer=options.observer
    )
    with locked(ws, ctx, runbook_name, options) as lock:
        ci = ci_fields()  # which CI pipeline ran it, if any: `opsctl maturity` counts automated deploys
        journal.event("run", "started", params=request.params(), digest=loaded.digest, dry_run=options.dry_run, **ci)
        announce(ctx, "rollback.started" if runbook_name == "rollback" else "deploy.started")
        return drive(ws, ctx, loaded, options, start_at=0, lock=lock)


def incident_extra(request: RunRequest) -> dict[str, str]:
    """The incident a change answers, recorded on every event of the run."""
    return {"incident": request.incident} if request.incident else {}


def drive(
    ws: Workspace,
    ctx: RunContext,
    loaded: LoadedRunbook,
    options: RunOptions,
    *,
    start_at: int,
    resume_rollback: bool = False,
    lock: LockHandle | None = None,
) -> RunResult:
    journal = ctx.journal
    name = loaded.name
    try:
        # Policies before any gate or prompt (dry runs too): a frozen environment says so first.
        enforced = enforce(ctx, change=not resume_rollback and changes_ahead(loaded, start_at))
        if resume_rollback:
            outcome = StepsOutcome((), None)
            rollback = run_rollback(ws, ctx, loaded, resume=True, lock=lock)
        else:
            outcome = run_steps(
                ctx, loaded, start_at=start_at, guard=confirm_guard(options, enforced), before_change=lock_guard(lock)
            )
            rollback = None
            if outcome.wants_rollback and not options.no_rollback and not ctx.dry_run:
                rollback = run_rollback(ws, ctx, loaded, lock=lock)
    except (KeyboardInterrupt, Interrupted):
        # In this order: stop the workers and the platform's change in flight, then journal.
        raise journal_interrupted(ctx, stop_platform(ctx)) from None
    except Locked as exc:
        # Someone else's lease or lock stopped a step before it changed anything: the run stays resumable.
        raise journal_locked(ctx, exc) from None
    except LockLost as lost:
        # Our own lock was broken or taken over: stop before the next change, naming who and what runs now.
        raise lock_lost(ctx, lost) from None
    except Declined as exc:
        journal.event("run", "failed", summary=str(exc), release_before=ctx.state.previous)
        run_aborted(ctx, str(exc))
        raise
    except OpsctlError as exc:
        status = "needs_human" if isinstance(exc, NeedsHuman) else "error"
        journal.event(
            "run",
            status,
            summary=str(exc),
            release_before=ctx.state.previous,
            attempted=ctx.state.attempted,
        )
        run_aborted(ctx, str(exc))
        raise
    status, summary = _verdict(name, ctx, outcome, rollback, options)
    announce_end(ctx, name, status, summary, outcome.failed)
    release_after = ctx.state.release if status in ("succeeded", "rolled_back") else None
    journal.event(
        "run",
        status,
        summary=summary,
        release_before=ctx.state.previous,
        release_after=release_after,
        attempted=ctx.state.attempted,
        verified=status == "succeeded" and not ctx.dry_run,
    )
    shown = "dry_run" if ctx.dry_run and status == "succeeded" else status
    rollback_steps = rollback.steps if rollback else ()
    return RunResult(
        ctx.run_id, name, str(ctx.env_name), shown, summary, outcome.steps, rollback_steps, ctx.state.copy()
    )


def _verdict(
    name: str, ctx: RunContext, outcome: StepsOutcome, rollback: StepsOutcome | None, options: RunOptions
) -> tuple[str, str]:
    if outcome.failed is None:
        release = ctx.state.release or {}
        what = f"{release.get('id')} ({release.get('image')})" if release else "done"
        return "succeeded", (
            "dry run: every read and gate passed; nothing was changed"
            if ctx.dry_run
            else f"{name} succeeded: {what} verified"
        )
    failed = f"step {outcome.failed.id} failed: {outcome.failed.summary}"
    if rollback is None:
        why = " (--no-rollback)" if outcome.wants_rollback and options.no_rollback else ""
        return "failed", f"{failed}{why}"
    if rollback.failed is None:
        release = ctx.state.release or {}
        return "rolled_back", f"{failed}; rolled back to {release.get('id')} ({release.get('image')}) and verified"
    return "rollback_failed", (
        f"{failed}; THE ROLLBACK FAILED at step {rollback.failed.id}: {rollback.failed.summary}."
        f" The service needs a human: {_platform_state(ctx)}"
    )


def _platform_state(ctx: RunContext) -> str:
    return platform_state(ctx)
