"""Continue an interrupted run from its first unfinished step, after re-reading the platform."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from opsctl.engine.loader import load_runbook
from opsctl.engine.request import RunRequest
from opsctl.engine.state import RunState
from opsctl.errors import BadInput
from opsctl.runs.locking import locked
from opsctl.runs.result import RunOptions, RunResult
from opsctl.runs.rollback import finished_steps
from opsctl.runs.run import drive, incident_extra

if TYPE_CHECKING:
    from opsctl.workspace import Workspace


def resume(
    ws: Workspace, run_id: str, options: RunOptions, *, confirmations: frozenset[str] = frozenset()
) -> RunResult:
    """Continue an interrupted run from its first unfinished step, after re-reading the platform.

    The request is rebuilt from the params the run journaled; ``confirmations``
    are the manual gates confirmed now (``opsctl resume RUN --confirm ID``).
    """
    from opsctl.audit.query import run_events, summarize

    events = run_events(ws.audit.path, run_id)
    if not events:
        raise BadInput(f"no run {run_id} in the audit log (see `opsctl runs`)")
    summaries = summarize(events)
    if not summaries:
        raise BadInput(f"{run_id} is not a deploy, rollback or hot-patch run; nothing to resume")
    summary = summaries[0]
    if summary.status not in ("running", "interrupted"):
        raise BadInput(f"run {run_id} already finished ({summary.status}); start a new run instead")
    if summary.runbook.startswith("checklist:"):
        raise BadInput(f"run {run_id} ran a checklist, which cannot be resumed; run it again")
    loaded = load_runbook(summary.runbook, ws.config.project_dir)
    if summary.digest and summary.digest != loaded.digest:
        raise BadInput(f"{loaded.source.path.name} changed since run {run_id} began; start a new run instead")
    rollback_name = loaded.model.rollback_runbook or "rollback"
    in_rollback = any(e.get("runbook") == rollback_name for e in events) and summary.runbook != rollback_name
    snapshot: dict[str, Any] = next((e["state"] for e in reversed(events) if isinstance(e.get("state"), dict)), {})
    request = RunRequest.from_params(summary.params, confirmations=confirmations)
    extra = incident_extra(request)
    journal = ws.journal(run_id, summary.runbook, summary.env, change_type=loaded.model.change_type, **extra)
    ctx = ws.context(journal, summary.env, request=request, prompter=options.prompter, observer=options.observer)
    ctx.state = RunState.from_dict(snapshot)
    options = dataclasses.replace(options, extra={**extra, **options.extra})
    with locked(ws, ctx, summary.runbook, options) as lock:
        current = ctx.platform().current_release()
        ctx.emit("message", message=f"{ctx.platform().describe()} now runs {current.id} ({current.image})")
        journal.event("run", "resumed", platform_release={"id": current.id, "image": current.image})
        if in_rollback:
            return drive(ws, ctx, loaded, options, start_at=len(loaded.model.steps), resume_rollback=True, lock=lock)
        done = finished_steps(events, summary.runbook)
        start_at = next((i for i, s in enumerate(loaded.model.steps) if s.id not in done), len(loaded.model.steps))
        return drive(ws, ctx, loaded, options, start_at=start_at, lock=lock)
