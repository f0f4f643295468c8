"""Run a checklist: render every item, then run them (concurrently where independent).

Items that need a person (``manual``) run first, one at a time, so that
prompts never interleave with the live view; the rest run in waves ordered by
``needs``, each wave on a bounded thread pool. Results keep the file's order.
Every item is journaled (started, then its outcome) to the audit log.

A checklist is a gate: a blocking item that is not done fails it. A person
may skip a non-blocking manual item (with a reason); skipping a blocking one
fails it unless a waiver lets it through (``--waive ID --reason TEXT
--approved-by NAME``, see the ``manual`` action). An item whose ``when`` is
false does not apply, and is counted apart from what was skipped or waived.
"""

from __future__ import annotations

import time

from opsctl.engine.calls import DEADLINE_GRACE, DEFAULT_ITEM_TIMEOUT, attempt, call_action
from opsctl.engine.checklist_result import ChecklistResult, ItemResult
from opsctl.engine.context import RunContext
from opsctl.engine.current import CurrentItem, action_deadline, current_item, time_left, time_limit
from opsctl.engine.items import PreparedItem, prepare_items
from opsctl.engine.loader import LoadedChecklist
from opsctl.engine.outcome import Outcome, Status
from opsctl.engine.waves import run_in_waves

# The results (checklist_result), the time limits (current), calling and retrying an action (calls), preparing
# the items (items) and the waves (waves) have modules of their own; callers keep importing them from here.
__all__ = [
    "DEADLINE_GRACE",
    "DEFAULT_ITEM_TIMEOUT",
    "ChecklistResult",
    "CurrentItem",
    "ItemResult",
    "action_deadline",
    "call_action",
    "current_item",
    "run_checklist",
    "time_left",
    "time_limit",
]


def run_checklist(
    ctx: RunContext, checklist: LoadedChecklist, *, step: str | None = None, skips_need_waivers: bool = True
) -> ChecklistResult:
    """Run every item of ``checklist``; raises only for bad input (templates, with: values, no environment).

    ``skips_need_waivers=False`` is for checklists that track progress rather than
    guard a change (onboarding): there a person's skip of a blocking item stays a skip.
    """
    started = time.monotonic()
    prefix = step or checklist.name
    prepared = prepare_items(ctx, checklist, skips_need_waivers)
    ctx.journal.event(prefix, "started", checklist=checklist.name, title=checklist.model.title)
    ctx.emit(
        "checklist.started",
        checklist=checklist.name,
        title=checklist.model.title,
        items=[{"id": p.item.id, "title": p.item.title} for p in prepared],
    )
    results: dict[str, ItemResult] = {}
    manual = [p for p in prepared if p.spec.name == "manual"]
    automatic = [p for p in prepared if p.spec.name != "manual"]
    for entry in manual:
        results[entry.item.id] = _run_item(ctx, checklist.name, prefix, entry, results)
    run_in_waves(
        automatic,
        lambda entry: _run_item(ctx, checklist.name, prefix, entry, results),
        results,
        concurrency=checklist.model.concurrency,
        cancel=ctx.cancel,
    )
    ordered = tuple(results[p.item.id] for p in prepared)
    result = ChecklistResult(checklist.name, checklist.model.title, ordered, time.monotonic() - started)
    ctx.journal.event(
        prefix,
        result.status.value,
        checklist=checklist.name,
        counts=result.counts(),
        duration_ms=round(result.duration_s * 1000),
    )
    ctx.emit("checklist.finished", **result.as_dict())
    return result


def _run_item(
    ctx: RunContext, checklist: str, prefix: str, entry: PreparedItem, done: dict[str, ItemResult]
) -> ItemResult:
    """Run one item (unless its outcome is known, or an item it needs failed); journal and emit its result."""
    item = entry.item
    step = f"{prefix}/{item.id}"
    ctx.emit("item.started", id=item.id, title=item.title, uses=item.uses)
    started = time.monotonic()
    attempts = 0
    failed_need = next((n for n in item.needs if n in done and done[n].status is Status.FAILED), None)
    if entry.decided is not None:
        outcome = entry.decided
    elif failed_need is not None:
        outcome = Outcome.skipped(f"not run: it needs '{failed_need}', which failed")
    else:
        ctx.journal.event(step, "started", title=item.title, uses=item.uses)
        current_item.set(CurrentItem(item.id, item.title, checklist, entry.skip_needs_waiver))
        outcome, attempts = attempt(ctx, item, entry.spec, entry.params)
    outcome = Outcome(outcome.status, ctx.redactor.text(outcome.summary), ctx.redactor.value(outcome.detail))
    result = ItemResult(
        item.id,
        item.title,
        item.uses,
        outcome.status,
        outcome.summary,
        item.blocking,
        time.monotonic() - started,
        max(attempts, 1),
        outcome.detail,
    )
    ctx.journal.event(
        step,
        result.status.value,
        title=item.title,
        uses=item.uses,
        summary=result.summary,
        blocking=item.blocking,
        attempts=result.attempts,
        duration_ms=round(result.duration_s * 1000),
        detail=result.detail,
    )
    ctx.emit("item.finished", **result.as_dict())
    return result
