"""Platform actions: ``platform.plan``, ``platform.deploy``, ``platform.rollback``, ``rollback.ready``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from opsctl.config import Duration
from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.errors import BadInput, Interrupted
from opsctl.platforms.base import Release, RolloutOptions, RolloutResult, RolloutStatus
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
    )


def _image(ctx: RunContext, given: str | None) -> str | None:
    """``with: image`` (checked like --image), else the request's image, as text."""
    image = ImageRef.parse(given) if given else ctx.request.image
    return None if image is None else str(image)


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


@action("platform.plan", PlanParams)
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
    notes = _deploy_notes(ctx, current.image, image)
    ctx.state.plan = {"summary": plan.summary, "diff": list(plan.diff), "changes": notes}
    for line in [*plan.diff, *(f"change: {n}" for n in notes)]:
        ctx.emit("message", message=line)
    return Outcome.passed(plan.summary, current=current.as_dict(), image=image, diff=list(plan.diff), changes=notes)


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


@action("platform.deploy", DeployParams, mutating=True)
def platform_deploy(ctx: RunContext, params: DeployParams) -> Outcome:
    """Roll the image out and follow it until stable (or failed, reverted, timed out)."""
    image = _image(ctx, params.image)
    if not image:
        raise BadInput("platform.deploy needs an image: pass --image or set with: image")
    platform = ctx.platform()
    if ctx.state.previous is None:  # the plan step usually read it already
        ctx.state.previous = platform.current_release().as_dict()
    ctx.state.attempted = {"id": None, "image": image}
    options = _options(ctx, params.timeout, params.strategy)
    result = platform.deploy(image, options)
    if result.release is not None and result.release.image == image:
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


def resolve_target(ctx: RunContext, to: str | None, leaving: set[str] | None = None) -> tuple[Release, str]:
    """The release to roll back to, and why it was chosen.

    ``--to`` names one; else the newest release that passed verification in
    this environment (from the audit log), never the release being rolled
    back; else the platform's previous deployable release.
    """
    from opsctl.audit.query import last_verified, load_runs

    platform = ctx.platform()
    current = platform.current_release()
    if leaving is None:
        attempted = ctx.state.attempted or {}
        # After a failed deploy the failed release (by id or image: Fly restores machines itself,
        # so what runs now may already be the good one) is what we leave; otherwise what runs now.
        leaving = {str(v) for v in (attempted.get("id"), attempted.get("image")) if v} or {current.id}
    runs = load_runs(ctx.journal.log.path, ctx.env_name)
    if to:
        target = platform.find_release(to)
        if target is None:
            known = ", ".join(r.id for r in platform.releases(limit=10)) or "none"
            raise BadInput(f"--to {to} names no known release of {platform.describe()} (recent: {known})")
        why = "named with --to"
    else:
        record = last_verified(runs, str(ctx.env_name), exclude_ids=leaving)
        # The platform's own history may be shorter than the audit log's (Fly keeps a few images in
        # machine metadata): a verified release it no longer lists is still a target if it can deploy it.
        target = (platform.find_release(record.id) or Release(record.id, record.image)) if record else None
        why = f"last verified release (run {record.run}, {record.when[:16]})" if record else ""
        usable, reason = platform.can_deploy(target) if target is not None else (False, "")
        if target is not None and not usable:
            ctx.emit(
                "message",
                message=f"last verified release {target.id} can no longer be deployed "
                f"({reason}); looking at the platform's history",
            )
            target = None
        if target is None:
            target = _fallback(current, platform.releases(limit=20), leaving, _known_bad(runs, str(ctx.env_name)))
            why = (
                "the release running before (not verified by opsctl yet)"
                if target is current
                else ("previous revision (no verified release in the audit log)")
            )
        if target is None:
            raise _no_target(platform.describe())
    ok, reason = platform.can_deploy(target)
    if not ok:
        raise BadInput(f"cannot roll back to {target.id}: {reason}")
    return target, why


def _known_bad(runs: list[Any], env: str) -> set[str]:
    """Release ids and images that failed verification or were rolled back here: never targets."""
    from opsctl.audit.query import release_history

    bad = [r for r in release_history(runs, env) if r.verdict in ("failed", "rolled back")]
    return {r.id for r in bad} | {r.image for r in bad}


def _fallback(current: Release, releases: list[Release], leaving: set[str], bad: set[str]) -> Release | None:
    """What ran before ``current`` on the platform: older, not being left, not known bad."""
    ids = [r.id for r in releases]
    # Newest first: only releases after the current one are "before" it.
    older = releases[ids.index(current.id) + 1 :] if current.id in ids else releases
    for release in [current, *older]:
        if not {release.id, release.image} & (leaving | bad):
            return release
    return None


def _no_target(described: str) -> BadInput:
    return BadInput(
        f"no rollback target for {described}: no verified release in the audit log and no earlier "
        "release on the platform; name one with --to"
    )


@action("platform.rollback", RollbackParams, mutating=True)
def platform_rollback(ctx: RunContext, params: RollbackParams) -> Outcome:
    """Put the last verified release (or --to) back and follow it until stable."""
    target, why = resolve_target(ctx, params.to or ctx.request.to)
    ctx.state.rollback_target = target.as_dict()
    ctx.emit("message", message=f"rolling back to {target.id} ({target.image}): {why}")
    result = ctx.platform().rollback(target, _options(ctx, params.timeout))
    outcome = _verdict(ctx, result, f"rolled back to {target.id} ({target.image}): {why}")
    if outcome.ok:
        ctx.state.release = (result.release or target).as_dict()
    return outcome


@action("rollback.ready", PlanParams)
def rollback_ready(ctx: RunContext, params: PlanParams) -> Outcome:
    """A known-good rollback target exists and can still be deployed; names it."""
    del params
    try:
        # Planned before the deploy: what runs now is a fair target if the new image fails.
        target, why = resolve_target(ctx, None, leaving=set())
    except BadInput as exc:
        return Outcome.failed(str(exc))
    ctx.state.rollback_plan = target.as_dict()
    return Outcome.passed(f"rollback plan: {target.id} ({target.image}), {why}", target=target.as_dict())
