"""``manual``: a person confirms an item (yes / no / skip with a reason), or a waiver lets it through.

A gate's blocking item is either done or waived: a person alone cannot skip
it. Skipping one fails it with the way forward (``--waive ID --reason TEXT
--approved-by NAME``, someone else agreeing); a non-blocking item may be
skipped with a reason.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from opsctl.engine.actions import action
from opsctl.engine.checklist import current_item
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome


class ManualParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instructions: str | None = None


def waiver_hint(item_id: str) -> str:
    """What a person who skipped a blocking item can do instead."""
    return f"a blocking item needs a waiver to go ahead: --waive {item_id} --reason TEXT --approved-by NAME"


@action("manual", ManualParams)
def manual(ctx: RunContext, params: ManualParams) -> Outcome:
    """A person confirms the item; without a terminal, pass --confirm ID (or --waive ID with a reason and approver)."""
    item = current_item.get()
    item_id = item.id if item else "?"
    title = item.title if item else ""
    if item_id in ctx.request.confirmations:
        return Outcome.passed(f"confirmed with --confirm {item_id} by {ctx.actor}", confirmed_by=ctx.actor)
    waiver = ctx.request.waiver(item_id)
    if waiver is not None:
        approvers = ", ".join(waiver.approved_by)
        return Outcome.waived(
            f"waived by {ctx.actor}, approved by {approvers}: {waiver.reason}",
            waived_by=ctx.actor,
            approved_by=list(waiver.approved_by),
            reason=waiver.reason,
        )
    if ctx.prompter is None:
        return Outcome.failed(
            f"needs a person to confirm: run in a terminal, or pass --confirm {item_id} once it is done"
        )
    answer, reason = ctx.prompter.confirm(item_id, title, params.instructions)
    if answer == "yes":
        return Outcome.passed(f"confirmed by {ctx.actor}", confirmed_by=ctx.actor)
    if answer == "skip":
        skipped = f"skipped by {ctx.actor}: {reason}"
        if item is not None and item.skip_needs_waiver:
            return Outcome.failed(f"{skipped}; {waiver_hint(item_id)}", skipped_by=ctx.actor, reason=reason)
        return Outcome.skipped(skipped, skipped_by=ctx.actor, reason=reason)
    return Outcome.failed(f"not confirmed by {ctx.actor}" + (f": {reason}" if reason else ""))
