"""Which release a rollback puts back, and why: the choice a person sees before confirming it.

- ``--to`` names one. A release whose last verdict in this environment was
  a failure or a rollback is refused unless ``--force-target`` insists.
- Otherwise the newest verified release of this environment (from the audit
  log) that the platform can still deploy, never the one being left.
- Only the rollbacks opsctl starts itself (the automatic rollback of a failed
  deploy, and the pre-deploy readiness gate that plans it) fall back to what
  ran before the change when nothing verified is left: putting the service
  back matters more there than a verdict. A rollback a person asked for never
  silently takes an unverified release; it asks for ``--to``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsctl.engine.context import RunContext
from opsctl.errors import BadInput, Unavailable
from opsctl.platforms.base import Release
from opsctl.values.imageref import ImageRef

if TYPE_CHECKING:
    from opsctl.audit.query import ReleaseRecord, RunSummary
    from opsctl.platforms.base import Platform

FORCE_KEY = "force_target"  # the request's extra param set by `rollback --force-target`


@dataclass(frozen=True)
class RollbackTarget:
    """The release a rollback puts back and why it was chosen (shown, journaled, confirmed)."""

    release: Release
    why: str

    def describe(self) -> str:
        """``hvb:2 (hvb:1.8.0)``, with the image's digest when the platform knows one the image does not name."""
        digest = self.release.detail.get("digest")
        ref = ImageRef.try_parse(self.release.image)
        named = ref is not None and ref.digest is not None
        extra = f", digest {digest}" if digest and not named else ""
        return f"{self.release.id} ({self.release.image}{extra})"


def choose_target(ctx: RunContext, to: str | None, *, leaving: set[str] | None = None) -> RollbackTarget:
    """The release to roll back to (BadInput, exit 2, when there is none to choose).

    ``leaving``: ids and images never to choose; None means what this run
    attempted (after a failed deploy), else what ran when it read the
    platform first, else what runs now. The pre-deploy readiness gate passes
    an empty set: what runs then is a fair target.
    """
    from opsctl.audit.evidence import run_evidence
    from opsctl.audit.mirror.record import signed_record

    platform = ctx.platform()
    env = str(ctx.env_name)
    # With audit.hmac_key_env a verification counts only if keyed events record it, and with signed
    # audit.s3 checkpoints only if the signed central record holds it: a forged one is no target.
    central = signed_record(ctx.config.audit.s3, ctx.state_dir, ctx.journal.log)
    automatic = not to and (leaving is not None or bool(ctx.journal.extra.get("rollback_of")))
    try:
        runs = run_evidence(ctx.journal.log, env, central=central).trusted()
    except Unavailable as exc:
        if not automatic:
            raise
        # A rollback opsctl starts itself must not wait for S3: without the signed record no
        # verification counts, so it puts back what ran before the change (the platform's word).
        ctx.emit("message", message=f"{exc}; no verification counts, so the target is what ran before the change")
        runs = run_evidence(ctx.journal.log, env).trusted()
        central_down = True
    else:
        central_down = False
    if to:
        return _named(platform, runs, env, to, force=bool(ctx.request.extra.get(FORCE_KEY)))
    current = platform.current_release()
    if leaving is None:
        attempted = ctx.state.attempted or {}
        before = ctx.state.previous or {}
        # After a failed deploy the failed release (by id or image: Fly restores machines itself,
        # so what runs now may already be the good one) is what we leave; otherwise what ran when
        # the run read the platform (a resumed rollback may already run its target); else what runs now.
        leaving = (
            {str(v) for v in (attempted.get("id"), attempted.get("image")) if v}
            or {str(v) for v in (before.get("id"),) if v}
            or {current.id}
        )
    target, unusable = (None, []) if central_down else _verified(ctx, platform, runs, env, leaving)
    if target is not None:
        return target
    if automatic:
        return _before_the_change(platform, runs, env, current, leaving)
    raise _ask_for_to(runs, env, unusable)


def _named(platform: Platform, runs: list[RunSummary], env: str, to: str, *, force: bool) -> RollbackTarget:
    from opsctl.audit.query import last_judged

    target = platform.find_release(to)
    if target is None:
        known = ", ".join(r.id for r in platform.releases(limit=10)) or "none"
        raise BadInput(f"--to {to} names no known release of {platform.describe()} (recent: {known})")
    why = "named with --to"
    judged = last_judged(runs, env, target.id, target.image)
    if judged is not None and judged.bad:
        history = f"{target.id} ({target.image}) {_what_happened(judged)} in run {judged.run} on {_when(judged.when)}"
        if not force:
            raise BadInput(f"--to {to}: {history}; roll back to it anyway with --to {to} --force-target")
        why = f"named with --to and --force-target: {history}"
    ok, reason = platform.can_deploy(target)
    if not ok:
        raise BadInput(f"cannot roll back to {target.id}: {reason}")
    return RollbackTarget(target, why)


def _verified(
    ctx: RunContext, platform: Platform, runs: list[RunSummary], env: str, leaving: set[str]
) -> tuple[RollbackTarget | None, list[str]]:
    """The newest verified release the platform can still deploy, and the newer ones it cannot."""
    from opsctl.audit.query import verified_releases

    unusable: list[str] = []
    seen: set[str] = set()
    for record in verified_releases(runs, env, exclude_ids=leaving):
        if record.id in seen:
            continue
        seen.add(record.id)
        # The platform's own history may be shorter than the audit log's (Fly keeps a few images in
        # machine metadata): a verified release it no longer lists is still a target if it can deploy it.
        release = platform.find_release(record.id) or Release(record.id, record.image)
        usable, reason = platform.can_deploy(release)
        if usable:
            first = "last verified release" if not unusable else "newest verified release that can still be deployed"
            return RollbackTarget(release, f"{first}, deployed by run {record.run} on {_when(record.when)}"), unusable
        unusable.append(f"{release.id} ({release.image}) can no longer be deployed: {reason}")
        ctx.emit("message", message=f"verified release {release.id} can no longer be deployed ({reason})")
    return None, unusable


def _before_the_change(
    platform: Platform, runs: list[RunSummary], env: str, current: Release, leaving: set[str]
) -> RollbackTarget:
    """What ran before on the platform: now (if not being left), else older; never a release known bad."""
    from opsctl.audit.query import release_history

    bad = {name for r in release_history(runs, env) if r.bad for name in (r.id, r.image)}
    releases = platform.releases(limit=20)
    ids = [r.id for r in releases]
    # Newest first: only releases after the current one are "before" it.
    older = releases[ids.index(current.id) + 1 :] if current.id in ids else releases
    for release in [current, *older]:
        if {release.id, release.image} & (leaving | bad) or not platform.can_deploy(release)[0]:
            continue
        why = (
            "the release running before the change (not verified by opsctl yet)"
            if release is current
            else "the previous release on the platform (not verified by opsctl yet)"
        )
        return RollbackTarget(release, why)
    raise BadInput(
        f"no rollback target for {platform.describe()}: no verified release in the audit log and no earlier "
        "release on the platform; name one with --to"
    )


def _ask_for_to(runs: list[RunSummary], env: str, unusable: list[str]) -> BadInput:
    """Why a rollback a person asked for has no target, and what to do (name one with --to)."""
    from opsctl.audit.query import release_history

    ask = f"name one with --to RELEASE (see `opsctl releases {env}`)"
    if unusable:
        return BadInput(f"no verified release of {env} can be deployed ({'; '.join(unusable)}); {ask}")
    if any(r.verdict == "verified" for r in release_history(runs, env)):
        return BadInput(f"no verified release of {env} to roll back to other than the one running; {ask}")
    return BadInput(f"no verified release of {env} in the audit log; {ask}")


def _what_happened(record: ReleaseRecord) -> str:
    if record.verdict == "rolled back":
        return "was rolled back"
    return "failed verification" if record.status == "failed" else f"failed ({record.status})"


def _when(ts: str) -> str:
    """An audit timestamp for people: ``2026-11-27 10:15 UTC``."""
    return f"{ts[:16].replace('T', ' ')} UTC"
