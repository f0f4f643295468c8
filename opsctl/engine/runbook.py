"""Run a runbook's steps in order; each step runs a checklist or an action.

The runner journals every step (started, then its outcome with a snapshot of
the run's state, which ``resume`` restores) and stops at the first failed step
unless the step says ``on_failure: continue``. It does not roll back itself:
it reports which step asked for a rollback, and the operation decides.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opsctl.engine.actions import get_action
from opsctl.engine.calls import call_action
from opsctl.engine.checklist import run_checklist
from opsctl.engine.checklist_result import ChecklistResult
from opsctl.engine.context import RunContext
from opsctl.engine.current import time_limit
from opsctl.engine.inputs import action_params, applies
from opsctl.engine.loader import LoadedRunbook, load_checklist
from opsctl.engine.models import Step
from opsctl.engine.outcome import Outcome, Status
from opsctl.engine.variables import template_context
from opsctl.locks.base import LockLost

DEFAULT_STEP_TIMEOUT = 3600.0
STEP_KIND = "step"

# Called once before the first step that changes anything (protection, policies).
Guard = Callable[[RunContext, Step], None]


@dataclass(frozen=True)
class StepResult:
    id: str
    title: str
    status: Status
    summary: str
    duration_s: float
    on_failure: str
    checklist: ChecklistResult | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "summary": self.summary,
            "duration_ms": round(self.duration_s * 1000),
        }
        if self.checklist is not None:
            data["checklist"] = self.checklist.as_dict()
        if "diagnosis" in self.detail:  # why a rollout failed (platform drivers): --json carries it
            data["diagnosis"] = self.detail["diagnosis"]
        return data


@dataclass(frozen=True)
class StepsOutcome:
    steps: tuple[StepResult, ...]
    failed: StepResult | None  # the step that stopped the run

    @property
    def wants_rollback(self) -> bool:
        return self.failed is not None and self.failed.on_failure == "rollback"


def run_steps(
    ctx: RunContext,
    runbook: LoadedRunbook,
    *,
    start_at: int = 0,
    guard: Guard | None = None,
    before_change: Guard | None = None,
) -> StepsOutcome:
    """Run the steps from ``start_at``; ``guard`` runs once before the first change, ``before_change``
    before every step that changes anything (e.g. to check that the run still holds its lock).

    A step's changes are fenced too (``ctx.fence``): a :class:`LockLost` from
    inside a step comes out naming that step.
    """
    results: list[StepResult] = []
    guarded = False
    for index, step in enumerate(runbook.model.steps):
        if index < start_at:
            continue
        variables = template_context(ctx)
        skip = not applies(runbook.doc, ("steps", index), step.when, variables)
        mutates = _mutates(step)
        if not skip and mutates and not guarded and guard is not None:  # dry runs see the policies too
            guard(ctx, step)
            guarded = True
        if not skip and mutates and not ctx.dry_run and before_change is not None:
            before_change(ctx, step)
        try:
            result = _run_step(ctx, runbook, index, step, variables, skip=skip, dry_skip=mutates and ctx.dry_run)
        except LockLost as lost:  # the step's own fence (before a platform call) found the lock gone
            raise lost.at(f"during step {step.id}") from None
        results.append(result)
        if result.status is Status.FAILED and step.on_failure != "continue":
            return StepsOutcome(tuple(results), result)
    return StepsOutcome(tuple(results), None)


def changes_ahead(runbook: LoadedRunbook, start_at: int = 0) -> bool:
    """Whether a step from ``start_at`` on changes things (its ``when`` aside): the policies then apply."""
    return any(_mutates(step) for step in runbook.model.steps[start_at:])


def _mutates(step: Step) -> bool:
    if step.mutates is not None:
        return step.mutates
    return step.uses is not None and get_action(step.uses).mutating


def _run_step(
    ctx: RunContext,
    runbook: LoadedRunbook,
    index: int,
    step: Step,
    variables: dict[str, Any],
    *,
    skip: bool,
    dry_skip: bool,
) -> StepResult:
    started = time.monotonic()
    ctx.emit("step.started", id=step.id, title=step.title)
    checklist: ChecklistResult | None = None
    if skip:
        outcome = Outcome.not_applicable(f"does not apply (when: {step.when})")
    elif dry_skip:
        outcome = Outcome.skipped(f"dry run: {step.title.lower()} not done (it changes things)")
    else:
        ctx.journal.event(step.id, "started", kind=STEP_KIND, title=step.title)
        if step.checklist is not None:
            # A checklist step has a time limit too: its items, and their retries, end by it.
            with time_limit(step.timeout or DEFAULT_STEP_TIMEOUT):
                checklist = run_checklist(ctx, load_checklist(step.checklist, ctx.project_dir), step=step.id)
            outcome = _checklist_outcome(checklist)
        else:
            outcome = _action_outcome(ctx, runbook, index, step, variables)
    outcome = Outcome(outcome.status, ctx.redactor.text(outcome.summary), ctx.redactor.value(outcome.detail))
    result = StepResult(
        step.id,
        step.title,
        outcome.status,
        outcome.summary,
        time.monotonic() - started,
        step.on_failure,
        checklist,
        outcome.detail,
    )
    ctx.journal.event(
        step.id,
        result.status.value,
        kind=STEP_KIND,
        title=step.title,
        summary=result.summary,
        duration_ms=round(result.duration_s * 1000),
        detail=result.detail,
        state=ctx.state.as_dict(),
    )
    ctx.emit("step.finished", **result.as_dict())
    return result


def _checklist_outcome(result: ChecklistResult) -> Outcome:
    counts = result.counts()
    if result.status is Status.FAILED:
        failed = ", ".join(i.id for i in result.items if i.blocks)
        return Outcome.failed(f"{result.title}: failed ({failed})", counts=counts)
    summary = f"{result.title}: {result.status.value} ({result.describe_counts()})"
    return Outcome(result.status, summary, {"counts": counts})


def _action_outcome(
    ctx: RunContext, runbook: LoadedRunbook, index: int, step: Step, variables: dict[str, Any]
) -> Outcome:
    assert step.uses is not None  # noqa: S101 - the loader guarantees checklist xor uses
    spec = get_action(step.uses)
    params = action_params(runbook.doc, ("steps", index), spec, step.uses, with_=step.with_, variables=variables)
    return call_action(ctx, spec, params, step.timeout or DEFAULT_STEP_TIMEOUT, step.id)
