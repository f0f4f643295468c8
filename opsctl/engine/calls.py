"""Call one action bounded in time (its own thread, a deadline, a grace), and retry a failed item within one budget."""

from __future__ import annotations

import contextvars
import threading
import time
from typing import Any

from opsctl.engine.actions import ActionSpec
from opsctl.engine.context import RunContext
from opsctl.engine.current import action_deadline
from opsctl.engine.models import Item
from opsctl.engine.outcome import Outcome, Status
from opsctl.errors import OpsctlError
from opsctl.values.durations import format_duration

DEFAULT_ITEM_TIMEOUT = 900.0
DEADLINE_GRACE = 1.0  # seconds an action gets past its deadline to stop what it started


def attempt(ctx: RunContext, item: Item, spec: ActionSpec, params: Any) -> tuple[Outcome, int]:
    """Run ``item``'s action, retrying a failure as ``item.retry`` says within ``item.timeout``; (outcome, attempts)."""
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
        outcome = call_action(ctx, spec, params, left, item.id)
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
