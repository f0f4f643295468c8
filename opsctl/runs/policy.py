"""Policies that opsctl.yaml states, enforced by the engine for every runbook.

``freeze`` windows, ``requires.approvals`` and ``requires.promoted_from`` hold
whatever a project's own checklists say: the runner calls :func:`enforce`
before the first step that changes anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsctl.errors import BadInput, RunFailed

if TYPE_CHECKING:
    from opsctl.engine.context import RunContext
    from opsctl.engine.models import Step


def enforce(ctx: RunContext, step: Step) -> None:
    """Raise RunFailed (exit 1) when a policy refuses the change; journal what passed."""
    del step
    change_type = str(ctx.journal.extra.get("change_type", "normal"))
    _freeze(ctx, change_type)
    if change_type == "normal":
        _approvals(ctx)
        _promotion(ctx)


def _freeze(ctx: RunContext, change_type: str) -> None:
    now = ctx.clock()
    for window in ctx.env.freeze:
        if window.start <= now < window.end:
            span = f"{window.start.isoformat()} to {window.end.isoformat()}"
            incident = ctx.request.incident
            if change_type == "emergency" and incident:
                ctx.journal.event(
                    "policy.freeze",
                    "warned",
                    summary=f"inside freeze window '{window.reason}' "
                    f"({span}); allowed as an emergency change for {incident}",
                )
                ctx.emit(
                    "message",
                    message=f"freeze window '{window.reason}' is active: allowed as an emergency change for {incident}",
                )
                return
            if change_type in ("normal", "emergency"):  # an "emergency" without an incident is not one
                raise RunFailed(
                    f"{ctx.env_name} is frozen: '{window.reason}' ({span}); only emergency changes "
                    "(opsctl hotpatch --incident ID) may go in"
                )


def _approvals(ctx: RunContext) -> None:
    needed = ctx.env.requires.approvals
    if needed <= 0:
        return
    approvers = [a for a in ctx.request.approvers if a]
    for approver in approvers:
        if approver.strip().lower() == ctx.actor.strip().lower():
            raise BadInput(f"--approved-by {approver}: the approver may not be the person deploying ({ctx.actor})")
    # One person named twice (or in another case) is one approval.
    approvers = list({a.strip().lower(): a.strip() for a in approvers}.values())
    source = "--approved-by"
    if not approvers and ctx.config.github is not None:
        approvers = _github_approvers(ctx, needed)
        source = "the merged pull request"
    if len(approvers) < needed:
        raise RunFailed(
            f"{ctx.env_name} needs {needed} approval(s) for a normal change, got {len(approvers)}: "
            "pass --approved-by NAME (someone other than you)"
        )
    ctx.journal.event(
        "policy.approvals", "passed", approved_by=approvers, summary=f"approved by {', '.join(approvers)} ({source})"
    )


def _github_approvers(ctx: RunContext, needed: int) -> list[str]:
    """Approvers found on the pull request that merged the image's commit (none when it cannot tell)."""
    from opsctl.git.approvals import image_approvals

    image = None if ctx.request.image is None else str(ctx.request.image)
    verdict = image_approvals(ctx.config, ctx.redactor, ctx.project_dir, image, needed=needed, deployer=ctx.actor)
    if not verdict.ok:
        ctx.emit("message", message=f"approvals on GitHub: {verdict.summary}")
        return []
    return list(verdict.approvers)


def _promotion(ctx: RunContext) -> None:
    source = ctx.env.requires.promoted_from
    if not source or ctx.request.image is None:
        return
    image = str(ctx.request.image)  # the audit log records images as text
    from opsctl.audit.query import load_runs

    runs = [r for r in load_runs(ctx.journal.log.path, source) if r.runbook in ("deploy", "hot-patch")]
    mine = [r for r in runs if r.image == image or (r.extra.get("attempted") or {}).get("image") == image]
    if any(r.status == "succeeded" and r.verified for r in mine):
        last = next(r for r in reversed(mine) if r.status == "succeeded" and r.verified)
        ctx.journal.event(
            "policy.promotion", "passed", summary=f"{image} was verified on {source} (run {last.run}, {last.finished})"
        )
        return
    if mine:
        last = mine[-1]
        raise RunFailed(
            f"{image} is not promoted from {source}: its last {source} run {last.run} ended "
            f"'{last.status}' ({last.finished or last.started}); deploy and verify it on {source} first"
        )
    raise RunFailed(
        f"{image} is not promoted from {source}: {source} never verified it; "
        f"run `opsctl deploy {source} --image {image}` first"
    )
