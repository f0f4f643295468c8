"""``manual``: a person confirms an item (yes / no / skip with a reason)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from opsctl.engine.actions import action
from opsctl.engine.checklist import current_item
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome


class ManualParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instructions: str | None = None


@action("manual", ManualParams)
def manual(ctx: RunContext, params: ManualParams) -> Outcome:
    """A person confirms the item; without a terminal, pass --confirm ID."""
    item = current_item.get()
    item_id = item.id if item else "?"
    title = item.title if item else ""
    if item_id in ctx.request.confirmations:
        return Outcome.passed(f"confirmed with --confirm {item_id} by {ctx.actor}", confirmed_by=ctx.actor)
    if ctx.prompter is None:
        return Outcome.failed(
            f"needs a person to confirm: run in a terminal, or pass --confirm {item_id} once it is done"
        )
    answer, reason = ctx.prompter.confirm(item_id, title, params.instructions)
    if answer == "yes":
        return Outcome.passed(f"confirmed by {ctx.actor}", confirmed_by=ctx.actor)
    if answer == "skip":
        return Outcome.skipped(f"skipped by {ctx.actor}: {reason}", skipped_by=ctx.actor, reason=reason)
    return Outcome.failed(f"not confirmed by {ctx.actor}" + (f": {reason}" if reason else ""))
