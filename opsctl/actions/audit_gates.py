"""Gates answered by the audit log: ``audit.verified_in`` (an image passed verification elsewhere)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.values.imageref import ImageRef


class VerifiedInParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    env: str | None = Field(None, description="where it must have been verified (default: requires.promoted_from)")
    image: str | None = Field(None, description="default: the image being deployed")


@action("audit.verified_in", VerifiedInParams)
def verified_in(ctx: RunContext, params: VerifiedInParams) -> Outcome:
    """The image passed post-deploy verification in another environment (e.g. migrations tested in staging).

    With ``audit.hmac_key_env`` only a verification that keyed events record counts, and with signed
    ``audit.s3`` checkpoints only one the signed central record holds (:mod:`opsctl.audit.evidence`).
    """
    from opsctl.audit.evidence import run_evidence
    from opsctl.audit.mirror.record import signed_record

    source = params.env or (ctx.env.requires.promoted_from if ctx.env_name else None)
    given = ImageRef.parse(params.image) if params.image else ctx.request.image
    image = None if given is None else str(given)  # the audit log records images as text
    if not source or source == ctx.env_name:
        return Outcome.skipped(f"{ctx.env_name} is where changes are first verified; nothing to compare with")
    if not image:
        return Outcome.failed("no image given: pass --image")
    ctx.config.environment(source)
    central = signed_record(ctx.config.audit.s3, ctx.state_dir, ctx.journal.log)
    evidence = run_evidence(ctx.journal.log, source, central=central)
    runs = [r for r in evidence.runs if r.image == image]
    verified = [r for r in runs if r.status == "succeeded" and r.verified]
    last = evidence.newest_counted(verified)
    if last is not None:
        return Outcome.passed(f"{image} was verified on {source} by run {last.run} ({last.finished})", run=last.run)
    if verified:
        return Outcome.failed(evidence.refusal(verified[-1]), run=verified[-1].run)
    if runs:
        return Outcome.failed(
            f"{image} did not pass verification on {source}: run {runs[-1].run} ended '{runs[-1].status}'"
        )
    return Outcome.failed(f"{image} was never deployed to {source}; deploy and verify it there first")


class RecordParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    require_incident: bool = Field(True, description="emergency changes must name an incident")


@action("change.record", RecordParams)
def change_record(ctx: RunContext, params: RecordParams) -> Outcome:
    """The change is recorded: type, incident, reason and impact, in the audit log."""
    change_type = str(ctx.journal.extra.get("change_type", "normal"))
    incident = ctx.request.incident
    reason = ctx.request.reason
    if params.require_incident and change_type == "emergency" and not incident:
        return Outcome.failed("an emergency change needs an incident id (--incident INC-42)")
    parts = [f"{change_type} change"]
    if incident:
        parts.append(f"incident {incident}")
    parts.append(f"reason: {reason}" if reason else "no reason given (--reason)")
    return Outcome.passed("recorded: " + ", ".join(parts), change_type=change_type, incident=incident, reason=reason)
