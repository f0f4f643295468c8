"""The automatic rollback inside a failed run, and which steps a journal shows as done."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from opsctl.engine.context import RunContext
from opsctl.engine.loader import LoadedRunbook, load_runbook
from opsctl.engine.outcome import Status
from opsctl.engine.runbook import STEP_KIND, StepResult, StepsOutcome, run_steps
from opsctl.errors import BadInput, NeedsHuman
from opsctl.runs.locking import lock_guard

if TYPE_CHECKING:
    from opsctl.locks.base import LockHandle
    from opsctl.workspace import Workspace


def finished_steps(events: list[dict[str, Any]], runbook: str) -> set[str]:
    # A step that did not apply (its `when` was false) is finished too: resuming must not run it again.
    ok = {Status.PASSED.value, Status.WARNED.value, Status.SKIPPED.value, Status.NOT_APPLICABLE.value}
    return {
        str(e["step"])
        for e in events
        if e.get("kind") == STEP_KIND and e.get("runbook") == runbook and e.get("status") in ok
    }


def run_rollback(
    ws: Workspace, ctx: RunContext, loaded: LoadedRunbook, *, resume: bool = False, lock: LockHandle | None = None
) -> StepsOutcome:
    from opsctl.audit.query import run_events

    name = loaded.model.rollback_runbook or "rollback"
    rb_loaded = load_runbook(name, ws.config.project_dir)
    # The rollback is part of the same change: a hot-patch's rollback is still emergency, with its incident.
    journal = ws.journal(ctx.run_id, name, ctx.env_name, rollback_of=loaded.name, **ctx.journal.extra)
    rb_ctx = dataclasses.replace(ctx, journal=journal, request=ctx.request.without_target())
    start_at = 0
    if resume:
        done = finished_steps(run_events(ws.audit.path, ctx.run_id), name)
        start_at = next((i for i, s in enumerate(rb_loaded.model.steps) if s.id not in done), 0)
    ctx.emit("message", message=f"{loaded.name} failed: starting automatic rollback ({name})")
    try:
        return run_steps(rb_ctx, rb_loaded, start_at=start_at, before_change=lock_guard(lock))
    except (BadInput, NeedsHuman) as exc:
        # No target, or the platform refused: the rollback failed; say so rather than exit 2.
        failed = StepResult("rollback", "Automatic rollback", Status.FAILED, str(exc), 0.0, "stop")
        journal.event("rollback", "failed", kind=STEP_KIND, summary=str(exc))
        return StepsOutcome((failed,), failed)
