"""Runbook operations: deploy, rollback, hot-patch and resume, with lock, journal and rollback.

One run = one run id, one lock on the environment, a ``run started`` event, the
steps, an automatic rollback when a step asks for it, and one terminal
``run`` event carrying the releases before and after. Exit codes follow
DESIGN section 6.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsctl.engine.context import Observer, Prompter, RunContext
from opsctl.engine.loader import LoadedRunbook, load_runbook
from opsctl.engine.models import Step
from opsctl.engine.outcome import Status
from opsctl.engine.request import RunRequest
from opsctl.engine.runbook import STEP_KIND, Guard, StepResult, StepsOutcome, run_steps
from opsctl.engine.state import RunState
from opsctl.errors import BadInput, ExitCode, Interrupted, NeedsHuman, OpsctlError, RunFailed
from opsctl.process.signals import sigterm_as_interrupt

if TYPE_CHECKING:
    from opsctl.locks.base import LockHandle
    from opsctl.workspace import Workspace


NEEDS_INCIDENT = (
    "hotpatch needs --incident ID: emergency changes must be tied to an incident "
    "(open one with your incident process, e.g. INC-42)"
)


class Declined(RunFailed):
    """The person did not confirm a change to a protected environment."""


@dataclass(frozen=True)
class RunResult:
    run: str
    runbook: str
    env: str
    status: str  # succeeded | failed | rolled_back | rollback_failed | dry_run
    summary: str
    steps: tuple[StepResult, ...] = ()
    rollback_steps: tuple[StepResult, ...] = ()
    state: RunState = field(default_factory=RunState)

    @property
    def exit_code(self) -> ExitCode:
        if self.status in ("succeeded", "dry_run"):
            return ExitCode.OK
        if self.status == "rollback_failed":
            return ExitCode.NEEDS_HUMAN
        return ExitCode.FAILED

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "runbook": self.runbook,
            "env": self.env,
            "status": self.status,
            "exit_code": int(self.exit_code),
            "summary": self.summary,
            "release_before": self.state.previous,
            "release_after": self.state.release,
            "steps": [s.as_dict() for s in self.steps],
            "rollback_steps": [s.as_dict() for s in self.rollback_steps],
        }


@dataclass
class RunOptions:
    """How to run (the request says what to do)."""

    dry_run: bool = False
    yes: bool = False
    no_rollback: bool = False
    prompter: Prompter | None = None
    observer: Observer | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # recorded on every event (change_type, incident)


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
    if runbook_name == "hot-patch" and not request.incident:
        # The emergency procedure itself; a project's own emergency runbooks meet the freeze policy instead.
        raise BadInput(NEEDS_INCIDENT)
    environment = ws.config.environment(env)
    if environment.protected and not (options.yes or options.dry_run or options.prompter):
        # Refuse before any gate runs: nobody could confirm at the deploy step either.
        raise BadInput(f"{env} is protected: run in a terminal to confirm by typing its name, or pass --yes")
    loaded = load_runbook(runbook_name, ws.config.project_dir)
    run_id = ws.new_run_id()
    extra = {"change_type": loaded.model.change_type, **_incident(request), **options.extra}
    journal = ws.journal(run_id, runbook_name, env, **extra)
    ctx = ws.context(
        journal, env, request=request, dry_run=options.dry_run, prompter=options.prompter, observer=options.observer
    )
    with _locked(ws, ctx, runbook_name, options) as lock:
        journal.event("run", "started", params=request.params(), digest=loaded.digest, dry_run=options.dry_run)
        _announce(ctx, "rollback.started" if runbook_name == "rollback" else "deploy.started")
        return _drive(ws, ctx, loaded, options, start_at=0, lock=lock)


def resume(
    ws: Workspace, run_id: str, options: RunOptions, *, confirmations: frozenset[str] = frozenset()
) -> RunResult:
    """Continue an interrupted run from its first unfinished step, after re-reading the platform.

    The request is rebuilt from the params the run journaled; ``confirmations``
    are the manual gates confirmed now (``opsctl resume RUN --confirm ID``).
    """
    from opsctl.audit.query import run_events, summarize

    events = run_events(ws.audit.path, run_id)
    if not events:
        raise BadInput(f"no run {run_id} in the audit log (see `opsctl runs`)")
    summaries = summarize(events)
    if not summaries:
        raise BadInput(f"{run_id} is not a deploy, rollback or hot-patch run; nothing to resume")
    summary = summaries[0]
    if summary.status not in ("running", "interrupted"):
        raise BadInput(f"run {run_id} already finished ({summary.status}); start a new run instead")
    if summary.runbook.startswith("checklist:"):
        raise BadInput(f"run {run_id} ran a checklist, which cannot be resumed; run it again")
    loaded = load_runbook(summary.runbook, ws.config.project_dir)
    if summary.digest and summary.digest != loaded.digest:
        raise BadInput(f"{loaded.source.path.name} changed since run {run_id} began; start a new run instead")
    rollback_name = loaded.model.rollback_runbook or "rollback"
    in_rollback = any(e.get("runbook") == rollback_name for e in events) and summary.runbook != rollback_name
    snapshot: dict[str, Any] = next((e["state"] for e in reversed(events) if isinstance(e.get("state"), dict)), {})
    request = RunRequest.from_params(summary.params, confirmations=confirmations)
    extra = _incident(request)
    journal = ws.journal(run_id, summary.runbook, summary.env, change_type=loaded.model.change_type, **extra)
    ctx = ws.context(journal, summary.env, request=request, prompter=options.prompter, observer=options.observer)
    ctx.state = RunState.from_dict(snapshot)
    options = dataclasses.replace(options, extra={**extra, **options.extra})
    with _locked(ws, ctx, summary.runbook, options) as lock:
        current = ctx.platform().current_release()
        ctx.emit("message", message=f"{ctx.platform().describe()} now runs {current.id} ({current.image})")
        journal.event("run", "resumed", platform_release={"id": current.id, "image": current.image})
        if in_rollback:
            return _drive(ws, ctx, loaded, options, start_at=len(loaded.model.steps), resume_rollback=True, lock=lock)
        done = _finished_steps(events, summary.runbook)
        start_at = next((i for i, s in enumerate(loaded.model.steps) if s.id not in done), len(loaded.model.steps))
        return _drive(ws, ctx, loaded, options, start_at=start_at, lock=lock)


def _incident(request: RunRequest) -> dict[str, str]:
    """The incident a change answers, recorded on every event of the run."""
    return {"incident": request.incident} if request.incident else {}


def _finished_steps(events: list[dict[str, Any]], runbook: str) -> set[str]:
    ok = {Status.PASSED.value, Status.WARNED.value, Status.SKIPPED.value}
    return {
        str(e["step"])
        for e in events
        if e.get("kind") == STEP_KIND and e.get("runbook") == runbook and e.get("status") in ok
    }


def _drive(
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
        if resume_rollback:
            outcome = StepsOutcome((), None)
            rollback = _rollback(ws, ctx, loaded, resume=True, lock=lock)
        else:
            outcome = run_steps(
                ctx, loaded, start_at=start_at, guard=_guard(options), before_change=_still_locked(lock)
            )
            rollback = None
            if outcome.wants_rollback and not options.no_rollback and not ctx.dry_run:
                rollback = _rollback(ws, ctx, loaded, lock=lock)
    except (KeyboardInterrupt, Interrupted):
        ctx.cancel.set()
        journal.event("run", "interrupted", summary="interrupted by the user; resume with `opsctl resume`")
        raise Interrupted(
            f"interrupted: run {ctx.run_id} is journaled; continue it with `opsctl resume {ctx.run_id}`"
        ) from None
    except Declined as exc:
        journal.event("run", "failed", summary=str(exc), release_before=ctx.state.previous)
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
        raise
    status, summary = _verdict(name, ctx, outcome, rollback, options)
    _announce_end(ctx, name, status, summary)
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


def _announce(ctx: RunContext, event: str, **data: Any) -> None:
    """Notify the configured channels; delivery problems are warnings inside send(), never failures."""
    if ctx.dry_run:
        return
    from opsctl.notify import configured_channels, send

    if configured_channels(ctx):
        before, after = ctx.state.previous or {}, ctx.state.release or {}
        if event.startswith("rollback."):  # a rollback goes from what ran to the release it puts back
            before = ctx.state.attempted or before
        # A deploy's messages name the image it set out to ship, even after a rollback replaced it.
        shipped = ctx.request.image if not event.startswith("rollback.") else None
        duration = (ctx.clock() - ctx.started_at).total_seconds()
        send(
            ctx,
            event,
            {
                "image_before": before.get("image"),
                "image_after": str(shipped) if shipped is not None else after.get("image"),
                "duration": duration,
                "change_type": ctx.journal.extra.get("change_type"),
                "incident": ctx.journal.extra.get("incident"),
                **data,
            },
        )


def _announce_end(ctx: RunContext, runbook: str, status: str, summary: str) -> None:
    kind = "rollback" if runbook == "rollback" else "deploy"
    if status == "succeeded":
        _announce(ctx, f"{kind}.succeeded", summary=summary)
    elif status == "rolled_back":
        _announce(ctx, f"{kind}.failed", summary=summary)
        _announce(ctx, "rollback.succeeded", summary=summary)
    elif status == "rollback_failed":
        _announce(ctx, f"{kind}.failed", summary=summary)
        _announce(ctx, "rollback.failed", summary=summary)  # PagerDuty: an alert, someone must act
    elif status == "failed":
        _announce(ctx, f"{kind}.failed", summary=summary)


def _platform_state(ctx: RunContext) -> str:
    try:
        current = ctx.platform().current_release()
    except Exception as exc:  # the platform itself may be what is broken
        return f"its state could not be read ({type(exc).__name__}: {exc})"
    warnings = "; ".join(ctx.platform().warnings())
    return f"it now runs {current.id} ({current.image}){'; ' + warnings if warnings else ''}"


def _rollback(
    ws: Workspace, ctx: RunContext, loaded: LoadedRunbook, *, resume: bool = False, lock: LockHandle | None = None
) -> StepsOutcome:
    from opsctl.audit.query import run_events

    name = loaded.model.rollback_runbook or "rollback"
    rb_loaded = load_runbook(name, ws.config.project_dir)
    # The rollback is part of the same change: a hot-patch's rollback is still emergency, with its incident.
    journal = ws.journal(ctx.run_id, name, ctx.env_name, rollback_of=loaded.name, **ctx.journal.extra)
    rb_ctx = dataclasses.replace(ctx, journal=journal, request=ctx.request.without_target())
    start_at = 0
    if resume:
        done = _finished_steps(run_events(ws.audit.path, ctx.run_id), name)
        start_at = next((i for i, s in enumerate(rb_loaded.model.steps) if s.id not in done), 0)
    ctx.emit("message", message=f"{loaded.name} failed: starting automatic rollback ({name})")
    try:
        return run_steps(rb_ctx, rb_loaded, start_at=start_at, before_change=_still_locked(lock))
    except (BadInput, NeedsHuman) as exc:
        # No target, or the platform refused: the rollback failed; say so rather than exit 2.
        failed = StepResult("rollback", "Automatic rollback", Status.FAILED, str(exc), 0.0, "stop")
        journal.event("rollback", "failed", kind=STEP_KIND, summary=str(exc))
        return StepsOutcome((failed,), failed)


def _guard(options: RunOptions) -> Guard:
    def guard(ctx: RunContext, step: Step) -> None:
        from opsctl.runs.policy import enforce

        enforce(ctx, step)
        if ctx.dry_run:
            return  # nothing will change: no confirmation to ask for
        env = ctx.env
        if not env.protected or options.yes:
            if env.protected:
                ctx.journal.event("confirm", "passed", summary=f"confirmed with --yes by {ctx.actor}")
            return
        plan = (ctx.state.plan["summary"] if ctx.state.plan else "") or step.title
        if options.prompter is None:
            raise BadInput(
                f"{ctx.env_name} is protected: run in a terminal to confirm by typing its name, or pass --yes"
            )
        if not options.prompter.type_to_confirm(str(ctx.env_name), plan):
            raise Declined(f"not confirmed: {ctx.env_name} was not typed; nothing was changed")
        ctx.journal.event("confirm", "passed", summary=f"{ctx.actor} typed the environment name")

    return guard


def _still_locked(lock: LockHandle | None) -> Guard:
    """Before each change: stop if the lock was lost (its heartbeat found it broken or taken over)."""

    def check(ctx: RunContext, step: Step) -> None:
        if lock is not None and lock.lost:
            raise NeedsHuman(
                f"lost the lock on {ctx.env_name} before step {step.id}: it was broken or taken "
                f"over; stopped before changing anything else. See `opsctl lock status {ctx.env_name}`"
                " and `opsctl status`"
            )

    return check


@contextmanager
def _locked(ws: Workspace, ctx: RunContext, runbook: str, options: RunOptions) -> Iterator[LockHandle | None]:
    """Hold the environment's lock (not for dry runs) and turn SIGTERM into an interrupt."""
    from opsctl.locks import make_lock_backend
    from opsctl.locks.base import LockInfo

    handle = None
    if not options.dry_run:
        info = LockInfo.for_run(str(ctx.env_name), ctx.run_id, ctx.actor, runbook, ctx.run_id)
        handle = make_lock_backend(ws.config).acquire(info)
    try:
        with sigterm_as_interrupt():
            yield handle
    finally:
        if handle is not None:
            handle.release()
        ws.run_finished(ctx.run_id)
