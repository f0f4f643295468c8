"""Before each change: the policies, then a person's typed confirmation for a protected environment."""

from __future__ import annotations

from opsctl.engine.context import RunContext
from opsctl.engine.models import Step
from opsctl.engine.runbook import Guard
from opsctl.errors import BadInput
from opsctl.runs.result import Declined, RunOptions


def confirm_guard(options: RunOptions) -> Guard:
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
