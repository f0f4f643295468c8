"""``opsctl checklist run``: one checklist, loaded, run and journaled as a run of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsctl.engine.checklist import ChecklistResult, run_checklist
from opsctl.engine.context import Observer, Prompter
from opsctl.engine.gates import check_gate_ids, manual_item_ids, require_environment
from opsctl.engine.loader import load_checklist
from opsctl.engine.request import RunRequest, Waiver
from opsctl.errors import Interrupted
from opsctl.runs.policy import check_waivers

if TYPE_CHECKING:
    from opsctl.workspace import Workspace


def run_named_checklist(
    ws: Workspace,
    name: str,
    env_name: str | None,
    *,
    params: dict[str, Any] | None = None,
    dry_run: bool = False,
    confirmed: frozenset[str] = frozenset(),
    waivers: tuple[Waiver, ...] = (),
    prompter: Prompter | None = None,
    observer: Observer | None = None,
) -> ChecklistResult:
    """Load, run and journal one checklist as a run of its own (no lock: a checklist changes nothing itself).

    Bad input (an unknown ``--confirm``/``--waive`` id, no ``--env`` for a
    checklist that needs one) is refused before anything is journaled.
    """
    if env_name is not None:
        ws.config.environment(env_name)
    loaded = load_checklist(name, ws.config.project_dir)
    require_environment(loaded, env_name)
    request = RunRequest.from_params(params or {}, confirmations=confirmed, waivers=waivers)
    check_gate_ids(request, manual_item_ids([loaded]), f"the {name} checklist")
    journal = ws.journal(ws.new_run_id(), f"checklist:{name}", env_name)
    ctx = ws.context(journal, env_name, request=request, dry_run=dry_run, prompter=prompter, observer=observer)
    journal.event("run", "started", dry_run=dry_run, params=ctx.params)
    try:
        check_waivers(ctx)
        result = run_checklist(ctx, loaded)
    except KeyboardInterrupt:
        ctx.cancel.set()
        journal.event("run", "interrupted")
        raise Interrupted(f"interrupted; run {journal.run} is journaled in the audit log") from None
    except Exception as exc:
        journal.event("run", "error", summary=str(exc))
        raise
    journal.event("run", result.status.value, counts=result.counts(), duration_ms=round(result.duration_s * 1000))
    ws.run_finished(journal.run)
    return result
