"""Continue an interrupted run from its first unfinished step, after re-reading the platform."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from opsctl.engine.gates import check_runbook_gate_ids
from opsctl.engine.loader import load_runbook
from opsctl.engine.request import RunRequest, Waiver
from opsctl.engine.state import RunState
from opsctl.errors import BadInput
from opsctl.runs.locking import locked
from opsctl.runs.result import RunOptions, RunResult
from opsctl.runs.rollback import finished_steps
from opsctl.runs.run import drive, incident_extra
from opsctl.runs.stale import Liveness, check_not_superseded, offerable, settle

if TYPE_CHECKING:
    from opsctl.audit.query import RunSummary
    from opsctl.workspace import Workspace


def resume(
    ws: Workspace,
    run_id: str,
    options: RunOptions,
    *,
    confirmations: frozenset[str] = frozenset(),
    waivers: tuple[Waiver, ...] = (),
) -> RunResult:
    """Continue an interrupted run from its first unfinished step, after re-reading the platform.

    Refused (BadInput) when the environment moved on since: a later run
    changed it, or the platform runs a release the run's journal never
    expected (:func:`~opsctl.runs.stale.check_not_superseded`). The request
    is rebuilt from the params the run journaled; ``confirmations`` are the
    manual gates confirmed now (``opsctl resume RUN --confirm ID``), ``waivers``
    those waived now (``--waive ID --reason TEXT --approved-by NAME``).
    """
    from opsctl.audit.query import load_runs, run_events, summarize

    events = run_events(ws.audit.path, run_id)
    if not events:
        raise BadInput(f"no run {run_id} in the audit log (see `opsctl runs`)")
    summaries = summarize(events)
    if not summaries:
        raise BadInput(f"{run_id} is not a deploy, rollback or hot-patch run; nothing to resume")
    summary = summaries[0]
    # A run stopped because its lock was lost journals needs_human with resumable: it changed nothing more.
    if summary.status not in ("running", "interrupted") and not summary.extra.get("resumable"):
        raise BadInput(f"run {run_id} already finished ({summary.status}); start a new run instead")
    if summary.runbook.startswith("checklist:"):
        raise BadInput(f"run {run_id} ran a checklist, which cannot be resumed; run it again")
    if summary.dry_run:
        # Resuming would run the rest for real: a dry run is simply run again.
        raise BadInput(f"run {run_id} was a dry run, which changes nothing; run the command again instead")
    loaded = load_runbook(summary.runbook, ws.config.project_dir)
    if summary.digest and summary.digest != loaded.digest:
        raise BadInput(f"{loaded.source.path.name} changed since run {run_id} began; start a new run instead")
    rollback_name = loaded.model.rollback_runbook or "rollback"
    in_rollback = any(e.get("runbook") == rollback_name for e in events) and summary.runbook != rollback_name
    snapshot: dict[str, Any] = next((e["state"] for e in reversed(events) if isinstance(e.get("state"), dict)), {})
    request = RunRequest.from_params(summary.params, confirmations=confirmations, waivers=waivers)
    check_runbook_gate_ids(request, loaded, ws.config.project_dir)
    extra = incident_extra(request)
    journal = ws.journal(run_id, summary.runbook, summary.env, change_type=loaded.model.change_type, **extra)
    ctx = ws.context(journal, summary.env, request=request, prompter=options.prompter, observer=options.observer)
    ctx.state = RunState.from_dict(snapshot)
    options = dataclasses.replace(options, extra={**extra, **options.extra})
    with locked(ws, ctx, summary.runbook, options) as lock:
        current = ctx.platform().current_release()
        # Under the lock, so that no run can change the environment between this check and the steps.
        check_not_superseded(load_runs(ws.audit.path, summary.env), summary, current=current, state=snapshot)
        ctx.emit("message", message=f"{ctx.platform().describe()} now runs {current.id} ({current.image})")
        journal.event("run", "resumed", platform_release={"id": current.id, "image": current.image})
        if in_rollback:
            return drive(ws, ctx, loaded, options, start_at=len(loaded.model.steps), resume_rollback=True, lock=lock)
        done = finished_steps(events, summary.runbook)
        start_at = next((i for i, s in enumerate(loaded.model.steps) if s.id not in done), len(loaded.model.steps))
        return drive(ws, ctx, loaded, options, start_at=start_at, lock=lock)


def latest_interrupted(ws: Workspace) -> RunSummary | None:
    """The newest interrupted run that :func:`resume` could continue (none superseded), or None.

    Runs killed without a word (kill -9) count: :func:`~opsctl.runs.stale.settle` tells them apart
    from runs that still hold their lock.
    """
    from opsctl.audit.query import load_runs

    runs = settle(load_runs(ws.audit.path), Liveness.of(ws.config))
    found = offerable(runs)
    return found[0] if found else None
