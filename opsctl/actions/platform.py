"""Platform actions: ``platform.plan``, ``platform.deploy``, ``rollback.plan``, ``platform.rollback``,
``rollback.ready`` (which release a rollback chooses, and why: :mod:`opsctl.actions.rollback_target`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from opsctl.actions.platform_leases import journaled_leases, lease_journal
from opsctl.actions.rollback_target import choose_target
from opsctl.actions.verify import pinned_image
from opsctl.config import Duration
from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.errors import BadInput, Interrupted
from opsctl.platforms.base import RolloutOptions, RolloutResult, RolloutStatus
from opsctl.values.durations import format_duration
from opsctl.values.imageref import ImageRef

DEFAULT_TIMEOUT = 900.0


def _options(ctx: RunContext, timeout: float | None, strategy: str | None = None) -> RolloutOptions:
    budget = timeout or ctx.request.timeout or DEFAULT_TIMEOUT
    return RolloutOptions(
        timeout=budget,
        on_event=lambda message: ctx.emit("platform.event", message=message),
        cancel=ctx.cancel,
        strategy=strategy or ctx.request.strategy,
        poll_interval=ctx.env.platform.poll_interval,
        fence=ctx.fence,  # the driver checks the run's lock right before each mutating call
        on_lease=lease_journal(ctx),  # journaled, so that a run killed with -9 leaves no orphan leases
        journaled_leases=journaled_leases(ctx),
        run_id=ctx.run_id,
    )


def _image(ctx: RunContext, given: str | None) -> ImageRef | None:
    """``with: image`` (checked like --image), else the request's image: parsed, as the drivers take it.

    Pinned to the digest ``platform.verify`` resolved for it, when that step ran.
    """
    return pinned_image(ctx, ImageRef.parse(given) if given else ctx.request.image)


def _verdict(ctx: RunContext, result: RolloutResult, done: str) -> Outcome:
    if result.status is RolloutStatus.INTERRUPTED or ctx.cancel.is_set():
        raise Interrupted(f"interrupted while waiting for the platform: {result.message}")
    detail = {"rollout": result.status.value, **result.detail}
    if result.release is not None:
        detail["release"] = result.release.as_dict()
    if result.ok:
        return Outcome.passed(done, **detail)
    return Outcome.failed(result.message, **detail)


class PlanParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str | None = None


@action("platform.plan", PlanParams, needs_env=True)
def platform_plan(ctx: RunContext, params: PlanParams) -> Outcome:
    """Read the platform and say what the change would do (release now -> release after)."""
    platform = ctx.platform()
    image = _image(ctx, params.image)
    if not image:
        current = platform.current_release()
        if ctx.state.previous is None:
            ctx.state.previous = current.as_dict()
        return Outcome.passed(f"{platform.describe()} runs {current.id} ({current.image})", current=current.as_dict())
    plan = platform.plan(image)
    current = plan.current or platform.current_release()
    if ctx.state.previous is None:
        ctx.state.previous = current.as_dict()
    notes = _deploy_notes(ctx, current.image, str(image))
    ctx.state.plan = {"summary": plan.summary, "diff": list(plan.diff), "changes": notes}
    for line in [*plan.diff, *(f"change: {n}" for n in notes)]:
        ctx.emit("message", message=line)
    return Outcome.passed(
        plan.summary, current=current.as_dict(), image=str(image), diff=list(plan.diff), changes=notes
    )


def _deploy_notes(ctx: RunContext, before: str, after: str) -> list[str]:
    """The commits between two images, when their tags name commits of the project's repository."""
    from opsctl.git.changes import commits_between

    try:
        commits = commits_between(ctx.project_dir, before, after, limit=20)
    except BadInput:
        return []  # tags that are not git refs, or no repository: the plan simply has no notes
    return [f"{c.short} {c.subject} ({c.author})" for c in commits]


class DeployParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str | None = None
    timeout: Duration | None = None
    strategy: str | None = None


@action("platform.deploy", DeployParams, mutating=True, needs_env=True)
def platform_deploy(ctx: RunContext, params: DeployParams) -> Outcome:
    """Roll the image out and follow it until stable (or failed, reverted, timed out)."""
    image = _image(ctx, params.image)
    if not image:
        raise BadInput("platform.deploy needs an image: pass --image or set with: image")
    platform = ctx.platform()
    if ctx.state.previous is None:  # the plan step usually read it already
        ctx.state.previous = platform.current_release().as_dict()
    ctx.state.attempted = {"id": None, "image": str(image)}
    options = _options(ctx, params.timeout, params.strategy)
    ctx.fence()  # still the lock's holder? (the driver asks again before each of its calls)
    result = platform.deploy(image, options)
    if result.release is not None and result.release.image == str(image):
        ctx.state.attempted = result.release.as_dict()
    outcome = _verdict(
        ctx,
        result,
        f"{image} is live as {result.release.id if result.release else '?'}"
        f" (stable within {format_duration(options.timeout)})",
    )
    if outcome.ok and result.release is not None:
        ctx.state.release = result.release.as_dict()
    return outcome


class RollbackParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str | None = None
    timeout: Duration | None = None


class RollbackPlanParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str | None = None


@action("rollback.plan", RollbackPlanParams, needs_env=True)
def rollback_plan(ctx: RunContext, params: RollbackPlanParams) -> Outcome:
    """Name the release a rollback would put back, why it was chosen, and the diff."""
    target = choose_target(ctx, params.to or ctx.request.to)
    platform = ctx.platform()
    plan = platform.plan_rollback(target.release)
    current = plan.current or platform.current_release()
    if ctx.state.previous is None:
        ctx.state.previous = current.as_dict()
    ctx.state.rollback_plan = target.release.as_dict()
    summary = f"roll back {current.id} ({current.image}) -> {target.describe()}: {target.why}"
    # What a protected environment's confirmation shows (runs/confirm.py), after the diff below.
    ctx.state.plan = {"summary": summary, "diff": list(plan.diff), "changes": []}
    for line in (f"target: {target.describe()}", f"why: {target.why}", *plan.diff):
        ctx.emit("message", message=line)
    return Outcome.passed(
        summary,
        current=current.as_dict(),
        target=target.release.as_dict(),
        why=target.why,
        diff=list(plan.diff),
    )


@action("platform.rollback", RollbackParams, mutating=True, needs_env=True)
def platform_rollback(ctx: RunContext, params: RollbackParams) -> Outcome:
    """Put the last verified release (or --to) back and follow it until stable."""
    chosen = choose_target(ctx, params.to or ctx.request.to)
    target = chosen.release
    ctx.state.rollback_target = target.as_dict()
    ctx.emit("message", message=f"rolling back to {chosen.describe()}: {chosen.why}")
    ctx.fence()  # still the lock's holder? (the driver asks again before each of its calls)
    result = ctx.platform().rollback(target, _options(ctx, params.timeout))
    outcome = _verdict(ctx, result, f"rolled back to {chosen.describe()}: {chosen.why}")
    if outcome.ok:
        ctx.state.release = (result.release or target).as_dict()
    return outcome


@action("rollback.ready", PlanParams, needs_env=True)
def rollback_ready(ctx: RunContext, params: PlanParams) -> Outcome:
    """A known-good rollback target exists and can still be deployed; names it."""
    del params
    try:
        # Planned before the deploy: what runs now is a fair target if the new image fails.
        chosen = choose_target(ctx, None, leaving=set())
    except BadInput as exc:
        return Outcome.failed(str(exc))
    ctx.state.rollback_plan = chosen.release.as_dict()
    return Outcome.passed(f"rollback plan: {chosen.describe()}, {chosen.why}", target=chosen.release.as_dict())
