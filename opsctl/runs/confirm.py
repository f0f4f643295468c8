"""Before the change: the clock against the freeze windows again, then a person's typed confirmation.

The policies themselves ran when the run began (:func:`opsctl.runs.policy.enforce`);
``enforced`` is what they found, or None when they have not run yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsctl.engine.context import RunContext
from opsctl.engine.models import Step
from opsctl.engine.runbook import Guard
from opsctl.errors import BadInput
from opsctl.runs.result import Declined, RunOptions

if TYPE_CHECKING:
    from opsctl.runs.policy import Enforced


def confirm_guard(options: RunOptions, enforced: Enforced | None = None) -> Guard:
    def guard(ctx: RunContext, step: Step) -> None:
        from opsctl.runs.policy import enforce, recheck

        if enforced is None:
            enforce(ctx)
        else:
            recheck(ctx, enforced)  # time passed while the gates ran: a freeze may have begun
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
