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

import contextvars
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from opsctl.engine.actions import ActionSpec, get_action
from opsctl.engine.context import RunContext
from opsctl.engine.gates import require_environment
from opsctl.engine.loader import LoadedChecklist
from opsctl.engine.models import Item
from opsctl.engine.outcome import LABELS, Outcome, Status
from opsctl.engine.templating import TemplateProblem, evaluate, render
from opsctl.engine.variables import template_context
from opsctl.errors import OpsctlError
from opsctl.files.yamlsrc import describe_error
from opsctl.values.durations import format_duration

DEFAULT_ITEM_TIMEOUT = 900.0
DEADLINE_GRACE = 1.0  # seconds an action gets past its deadline to stop what it started


@dataclass(frozen=True)
class CurrentItem:
    id: str
    title: str
    checklist: str
    skip_needs_waiver: bool = False  # a blocking item of a gate: a person's "skip" fails it


# Which item an action runs for (the `manual` action needs its id and title).
current_item: contextvars.ContextVar[CurrentItem | None] = contextvars.ContextVar("current_item", default=None)
# When the running action's time is up (time.monotonic()): actions that start processes or
# wait stop by then, since the executor can abandon a thread but not what the thread started.
action_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("action_deadline", default=None)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Actions (and checklist items) started inside the block end within ``seconds`` (or an enclosing limit).

    A runbook step that runs a checklist uses it: its step ``timeout`` bounds every item and retry.
    """
    at = time.monotonic() + seconds
    outer = action_deadline.get()
    token = action_deadline.set(at if outer is None else min(outer, at))
    try:
        yield
    finally:
        action_deadline.reset(token)


def time_left(default: float) -> float:
    """Seconds the running action may still use: ``default``, capped by its item's deadline."""
    deadline = action_deadline.get()
    return default if deadline is None else max(0.0, min(default, deadline - time.monotonic()))


@dataclass(frozen=True)
class ItemResult:
    id: str
    title: str
    uses: str
    status: Status
    summary: str
    blocking: bool
    duration_s: float = 0.0
    attempts: int = 1
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def blocks(self) -> bool:
        return self.blocking and self.status is Status.FAILED

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "uses": self.uses,
            "status": self.status.value,
            "summary": self.summary,
            "blocking": self.blocking,
            "duration_ms": round(self.duration_s * 1000),
            "attempts": self.attempts,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ChecklistResult:
    name: str
    title: str
    items: tuple[ItemResult, ...]
    duration_s: float

    @property
    def status(self) -> Status:
        if any(i.blocks for i in self.items):
            return Status.FAILED
        # A waived gate let the run go ahead without it: worth a warning, every time.
        if any(i.status in (Status.WARNED, Status.FAILED, Status.WAIVED) for i in self.items):
            return Status.WARNED
        return Status.PASSED

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAILED

    def counts(self) -> dict[str, int]:
        """Items per status (every status, zeros included): what the journal and ``--json`` record."""
        counts = {s.value: 0 for s in Status}
        for item in self.items:
            counts[item.status.value] += 1
        return counts

    def describe_counts(self) -> str:
        """``"3 passed, 1 waived, 1 skipped (non-blocking), 6 not applicable"``: the summary's counts, in words."""
        tally: dict[str, int] = {}
        for item in self.items:
            label = LABELS.get(item.status.value, item.status.value)
            if item.status is Status.SKIPPED and not item.blocking:
                label = "skipped (non-blocking)"
            tally[label] = tally.get(label, 0) + 1
        order = [LABELS.get(s.value, s.value) for s in Status]
        order.insert(order.index(Status.SKIPPED.value) + 1, "skipped (non-blocking)")
        return ", ".join(f"{tally[label]} {label}" for label in order if label in tally)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checklist": self.name,
            "title": self.title,
            "status": self.status.value,
            "duration_ms": round(self.duration_s * 1000),
            "counts": self.counts(),
            "items": [i.as_dict() for i in self.items],
        }


@dataclass(frozen=True)
class _Prepared:
    index: int
    item: Item
    spec: ActionSpec
    params: Any  # the action's validated with-model, or None when not run
    decided: Outcome | None  # the outcome known before running: not applicable, or skipped in a dry run
    skip_needs_waiver: bool = False


def run_checklist(
    ctx: RunContext, checklist: LoadedChecklist, *, step: str | None = None, skips_need_waivers: bool = True
) -> ChecklistResult:
    """Run every item of ``checklist``; raises only for bad input (templates, with: values, no environment).

    ``skips_need_waivers=False`` is for checklists that track progress rather than
    guard a change (onboarding): there a person's skip of a blocking item stays a skip.
    """
    started = time.monotonic()
    prefix = step or checklist.name
    prepared = _prepare(ctx, checklist, skips_need_waivers)
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
    for wave in _waves(automatic):
        workers = min(checklist.model.concurrency, len(wave))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="opsctl-item")
        try:
            futures = {
                p.item.id: pool.submit(
                    contextvars.copy_context().run, _run_item, ctx, checklist.name, prefix, p, results
                )
                for p in wave
            }
            for item_id, future in futures.items():
                results[item_id] = future.result()
        except BaseException:
            # Ctrl-C or bad input: tell running actions to stop and do not wait for them.
            ctx.cancel.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
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


def _prepare(ctx: RunContext, checklist: LoadedChecklist, skips_need_waivers: bool) -> list[_Prepared]:
    """Evaluate ``when`` and render ``with`` for every item before any runs: bad input stops all."""
    # Before any template: without an environment, `env.protected` would be blamed on the file.
    require_environment(checklist, ctx.env_name)
    variables = template_context(ctx)
    prepared = []
    for index, item in enumerate(checklist.model.items):
        spec = get_action(item.uses)
        decided: Outcome | None = None
        params = None
        try:
            if item.when is not None and not evaluate(item.when, variables):
                decided = Outcome.not_applicable(f"does not apply (when: {item.when})")
        except TemplateProblem as exc:
            raise checklist.item_error(index, "when", str(exc)) from None
        if decided is None:
            try:
                rendered = render(item.with_, variables)
            except TemplateProblem as exc:
                raise checklist.item_error(index, "with", str(exc)) from None
            try:
                params = spec.params.model_validate(rendered)
            except ValidationError as exc:
                err = exc.errors(include_url=False)[0]
                raise checklist.doc.error(
                    ("items", index, "with", *err["loc"]), f"{describe_error(err)} (for {item.uses})"
                ) from None
        mutates = spec.mutating if item.mutates is None else item.mutates
        if decided is None and ctx.dry_run and mutates:
            decided = Outcome.skipped("dry run: not run because it changes things")
        prepared.append(_Prepared(index, item, spec, params, decided, skips_need_waivers and item.blocking))
    return prepared


def _waves(entries: list[_Prepared]) -> list[list[_Prepared]]:
    """Group items so that every item runs after the items it ``needs``."""
    level: dict[str, int] = {}
    for entry in entries:  # needs always point backwards (the loader checks)
        level[entry.item.id] = 1 + max((level.get(n, -1) for n in entry.item.needs), default=-1)
    waves: dict[int, list[_Prepared]] = {}
    for entry in entries:
        waves.setdefault(level[entry.item.id], []).append(entry)
    return [waves[k] for k in sorted(waves)]


def _run_item(
    ctx: RunContext, checklist: str, prefix: str, entry: _Prepared, done: dict[str, ItemResult]
) -> ItemResult:
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
        outcome, attempts = _attempt(ctx, entry)
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


def _attempt(ctx: RunContext, entry: _Prepared) -> tuple[Outcome, int]:
    item = entry.item
    # One budget for all attempts and the waits between them: six attempts at a hung
    # endpoint must not take six times the item's timeout.
    budget = item.timeout or DEFAULT_ITEM_TIMEOUT
    ends = time.monotonic() + budget
    outer = action_deadline.get()
    if outer is not None:
        ends = min(ends, outer)
    attempts = 0
    while True:
        attempts += 1
        left = budget if attempts == 1 else ends - time.monotonic()
        outcome = call_action(ctx, entry.spec, entry.params, left, item.id)
        if outcome.status is not Status.FAILED or attempts > item.retry.count or ctx.cancel.is_set():
            return outcome, attempts
        if ends - time.monotonic() <= item.retry.interval:
            why = f"no time left to retry within {format_duration(budget)}"
            return Outcome(outcome.status, outcome.summary, {**outcome.detail, "retry_stopped": why}), attempts
        ctx.emit("item.retry", id=item.id, attempt=attempts, summary=outcome.summary)
        if ctx.cancel.wait(item.retry.interval):
            return outcome, attempts


def call_action(ctx: RunContext, spec: ActionSpec, params: Any, timeout: float, label: str) -> Outcome:
    """Run an action in its own thread so that a hung action cannot hang the run.

    OpsctlErrors (bad input, needs a human, interrupted) propagate; any other
    exception becomes a failed outcome naming it.
    """
    box: dict[str, Any] = {}
    outer = action_deadline.get()  # a step's time limit, or the item's when an action runs another
    if outer is not None:
        if outer <= time.monotonic():
            return Outcome.failed("not started: the time allowed for it ran out", timeout_s=0.0)
        timeout = min(timeout, outer - time.monotonic())
    deadline = time.monotonic() + timeout

    def target() -> None:
        action_deadline.set(deadline)
        try:
            box["outcome"] = spec.fn(ctx, params)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(
        target=contextvars.copy_context().run, args=(target,), daemon=True, name=f"opsctl-action-{label}"
    )
    worker.start()
    # Join in slices: a long join would delay Ctrl-C until the action ends. Actions that
    # honour the deadline report their own, more specific timeout within the grace.
    give_up = deadline + DEADLINE_GRACE
    while worker.is_alive() and time.monotonic() < give_up and not ctx.cancel.is_set():
        worker.join(min(0.2, max(0.0, give_up - time.monotonic())))
    if worker.is_alive() and ctx.cancel.is_set():
        worker.join(2.0)  # actions watch ctx.cancel: give them a moment to stop what they started
        if worker.is_alive():
            return Outcome.failed("interrupted")
    if worker.is_alive():
        return Outcome.failed(f"timed out after {format_duration(timeout)}", timeout_s=timeout)
    error = box.get("error")
    if isinstance(error, OpsctlError):
        raise error
    if error is not None:
        # An unexpected exception is a failed item, not a crash of the whole run.
        return Outcome.failed(f"{type(error).__name__}: {error}", error=type(error).__name__)
    outcome = box.get("outcome")
    if not isinstance(outcome, Outcome):
        return Outcome.failed(f"action {spec.name} returned no outcome")
    return outcome
