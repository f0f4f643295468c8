"""The error budget policy (Google SRE workbook): no normal change while the budget is gone or burning fast.

Checked with the other policies (:func:`opsctl.runs.policy.enforce`), right
after the lock and before the first step, dry runs included, and only for
protected environments. Under ``slo.policy: enforce`` a normal change is
refused, naming the figures, when the period's budget is exhausted or a
page-severity burn-rate alert fires (14.4x over 1h and 5m, 6x over 6h and
30m). Emergency changes (with their incident) and standard ones (rollbacks)
go in, and the run records that they went in against the budget: they are
how the budget is saved. ``warn`` says the same and goes ahead; ``off``
reads nothing.

A budget that cannot be read stops an enforced normal change (exit 5,
nothing changed): the gate cannot say yes without the figures. It never
stops an exempt change, nor a run under ``warn``: those record "unknown".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput, OpsctlError, RunFailed, Unavailable
from opsctl.slo.sources import has_source, no_source_message

if TYPE_CHECKING:
    from opsctl.engine.context import RunContext
    from opsctl.slo.status import SloStatus

STEP = "policy.budget"
EXEMPT = "only emergency changes (opsctl hotpatch --incident ID) and rollbacks may go in"


def check_budget(ctx: RunContext, change_type: str) -> None:
    """Raise RunFailed (exit 1), BadInput (2) or Unavailable (5) when the policy refuses; journal the rest."""
    policy = ctx.config.slo.policy
    if policy == "off" or not ctx.env.protected:
        return
    exemption = _exemption(ctx, change_type)
    enforcing = policy == "enforce" and exemption is None
    if not has_source(ctx):
        if enforcing:
            raise BadInput(f"slo.policy is enforce, but {no_source_message(ctx.env_name)}")
        return  # warn without a source: nothing to warn about, and no noise on every run
    from opsctl.slo.status import read_status

    try:
        status = read_status(ctx, chart=False)
    except Unavailable as exc:
        if enforcing:
            raise Unavailable(
                f"the error budget of {ctx.env_name} cannot be read, so a normal change may not go in: {exc}"
            ) from None
        _record(ctx, "warned", f"error budget unknown: {exc}; {exemption or 'slo.policy is warn: going ahead'}")
        return
    except OpsctlError as exc:
        if enforcing:
            raise
        _record(ctx, "warned", f"error budget unknown: {exc}; {exemption or 'slo.policy is warn: going ahead'}")
        return
    if status.healthy:
        _record(ctx, "passed", f"{status.figures()}; {_rates(status)}", status)
        return
    problems = "; ".join(status.problems())
    if enforcing:
        raise RunFailed(f"{ctx.env_name}: the error budget policy stops normal changes: {problems}; {EXEMPT}")
    why = exemption or "slo.policy is warn: going ahead"
    _record(ctx, "warned", f"{problems}; {why}", status)
    ctx.emit("message", message=f"error budget of {ctx.env_name}: {problems}; {why}")


def _exemption(ctx: RunContext, change_type: str) -> str | None:
    """Why this change may go in whatever the budget says, or None for a normal change."""
    incident = ctx.request.incident
    if change_type == "emergency" and incident:
        return f"allowed as an emergency change for {incident}"
    if change_type == "standard":
        return "allowed as a standard change (a rollback restores service)"
    return None  # normal, or an "emergency" without an incident: not one (as for freeze windows)


def _record(ctx: RunContext, status: str, summary: str, figures: SloStatus | None = None) -> None:
    extra: dict[str, Any] = {}
    if figures is not None:
        extra["budget"] = {
            "availability": figures.budget.availability,
            "budget_remaining": figures.budget.remaining,
            "burn_rates": figures.burn_rates,
            "fast_burn": [a.rule.name for a in figures.fast_burn],
            "source": figures.source_label,
        }
    ctx.journal.event(STEP, status, summary=summary, **extra)


def _rates(status: SloStatus) -> str:
    shown = ", ".join(f"{name} {'-' if rate is None else f'{rate:.1f}x'}" for name, rate in status.burn_rates.items())
    return f"burn rates {shown}"
