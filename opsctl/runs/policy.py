"""Policies that opsctl.yaml states, enforced by the engine for every runbook.

``freeze`` windows, ``requires.approvals``, ``requires.promoted_from``, an
announced deployment window (protected environments, :mod:`opsctl.runs.windows`)
and the waivers of manual gates hold whatever a project's own checklists say. The
runner calls :func:`enforce` once, right after it takes the lock and before
the first step (dry runs too): nobody answers a gate's prompts to learn that
production is frozen. Just before the change itself, :func:`recheck` looks at
the clock again, since a freeze may have begun while the gates ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsctl.errors import BadInput, RunFailed
from opsctl.runs.budget import check_budget
from opsctl.runs.windows import require_window

if TYPE_CHECKING:
    from opsctl.config import FreezeWindow
    from opsctl.engine.context import RunContext


@dataclass(frozen=True)
class Enforced:
    """What :func:`enforce` found: the freeze windows an emergency change was allowed into."""

    allowed_freezes: tuple[str, ...] = ()


def enforce(ctx: RunContext, *, change: bool = True) -> Enforced:
    """Raise RunFailed (exit 1) or BadInput (exit 2) when a policy refuses the run; journal what passed.

    ``change=False``: no step ahead changes anything (a run resumed after its
    rollout), so only the waivers given now are checked.
    """
    allowed: tuple[str, ...] = ()
    if change:
        change_type = _change_type(ctx)
        allowed = _freeze(ctx, change_type)
        check_budget(ctx, change_type)  # the error budget policy (runs/budget.py)
        if change_type == "normal":
            _approvals(ctx)
            _promotion(ctx)
            require_window(ctx)  # an announced deployment window (runs/windows.py)
    check_waivers(ctx)
    return Enforced(allowed)


def recheck(ctx: RunContext, enforced: Enforced) -> None:
    """Before the change: a freeze that began since :func:`enforce` refuses it too."""
    _freeze(ctx, _change_type(ctx), already=enforced.allowed_freezes)
    if _change_type(ctx) == "normal":
        require_window(ctx, journal=False)  # the window may have closed while the gates ran


def _change_type(ctx: RunContext) -> str:
    return str(ctx.journal.extra.get("change_type", "normal"))


def _freeze(ctx: RunContext, change_type: str, already: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The active windows an emergency change may go into (journaled once); RunFailed for other changes."""
    now = ctx.clock()
    allowed: list[str] = []
    for window in ctx.env.freeze:
        if window.start <= now < window.end:
            span = f"{window.start.isoformat()} to {window.end.isoformat()}"
            incident = ctx.request.incident
            if change_type == "emergency" and incident:
                allowed.append(_key(window))
                if _key(window) in already:
                    continue  # said when the run began
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
                return tuple(allowed)
            if change_type in ("normal", "emergency"):  # an "emergency" without an incident is not one
                raise RunFailed(
                    f"{ctx.env_name} is frozen: '{window.reason}' ({span}); only emergency changes "
                    "(opsctl hotpatch --incident ID) may go in"
                )
    return tuple(allowed)


def _key(window: FreezeWindow) -> str:
    return f"{window.start.isoformat()}/{window.end.isoformat()}"


def check_waivers(ctx: RunContext) -> None:
    """A waiver's approvers are not the person running, and (with ``github:``) approved the change's pull request.

    BadInput (exit 2) for an approver who is the actor; RunFailed (exit 1) when
    GitHub does not show their approval. The waivers that hold are journaled.
    """
    waivers = ctx.request.waivers
    if not waivers:
        return
    approvers = list(dict.fromkeys(a for w in waivers for a in w.approved_by))
    for approver in approvers:
        if approver.lower() == ctx.actor.strip().lower():
            raise BadInput(
                f"--approved-by {approver}: a waiver needs someone other than the person running it ({ctx.actor})"
            )
    source = "--approved-by"
    if ctx.config.github is not None:
        _waivers_on_github(ctx, approvers)
        source = "--approved-by, approved on the pull request"
    items = ", ".join(w.item for w in waivers)
    ctx.journal.event(
        "policy.waivers",
        "passed",
        waivers=[w.as_dict() for w in waivers],
        summary=f"{items} waived by {ctx.actor}, approved by {', '.join(approvers)} ({source})",
    )


def _waivers_on_github(ctx: RunContext, approvers: list[str]) -> None:
    """Each approver of a waiver approved the pull request of the change (the image's commit, else HEAD)."""
    from opsctl.git.approvals import image_approvals

    image = None if ctx.request.image is None else str(ctx.request.image)
    verdict = image_approvals(ctx.config, ctx.redactor, ctx.project_dir, image, needed=1, deployer=ctx.actor)
    approved = {a.lower() for a in verdict.approvers}
    for approver in approvers:
        if approver.lower() not in approved:
            raise RunFailed(
                f"--approved-by {approver}: a waiver's approver must have approved the change's pull request "
                f"on GitHub, and has not ({verdict.summary})"
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
    from opsctl.audit.evidence import run_evidence
    from opsctl.audit.mirror.record import signed_record

    # With audit.hmac_key_env, a verification counts only if keyed events say so (a forged line has no key);
    # with signed S3 checkpoints, only if the signed central record holds it (read newest first, stopping early).
    central = signed_record(ctx.config.audit.s3, ctx.state_dir, ctx.journal.log)
    evidence = run_evidence(ctx.journal.log, source, central=central)
    runs = [r for r in evidence.runs if r.runbook in ("deploy", "hot-patch")]
    mine = [r for r in runs if r.image == image or (r.extra.get("attempted") or {}).get("image") == image]
    verified = [r for r in mine if r.status == "succeeded" and r.verified]
    last = evidence.newest_counted(verified)
    if last is not None:
        ctx.journal.event(
            "policy.promotion", "passed", summary=f"{image} was verified on {source} (run {last.run}, {last.finished})"
        )
        return
    if verified:
        raise RunFailed(evidence.refusal(verified[-1]))
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
