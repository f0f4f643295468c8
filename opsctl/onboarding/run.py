"""One ``opsctl onboard``: run a week's open items as a journaled run and record what passed.

A run takes one week and runs its open items through the checklist engine:
manual items not yet confirmed, and every machine-checked item (re-checked
each time). Each finished item is recorded in the person's progress file as
it finishes, so Ctrl-C keeps what was already confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput, Interrupted
from opsctl.onboarding.progress import Progress, ProgressFile, build_progress, progress_path
from opsctl.onboarding.weeks import load_weeks, parse_week

if TYPE_CHECKING:
    from pathlib import Path

    from opsctl.engine.checklist import ChecklistResult
    from opsctl.engine.context import Observer, Prompter, RunContext
    from opsctl.engine.loader import LoadedChecklist
    from opsctl.workspace import Workspace

__all__ = ["OnboardingRun", "run_onboarding"]


@dataclass(frozen=True)
class OnboardingRun:
    """One ``opsctl onboard``: the week run (None when nothing was open) and the progress after it."""

    who: str
    week: str | None
    run: str | None
    result: ChecklistResult | None
    progress: Progress

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "who": self.who,
            "week": self.week,
            "run": self.run,
            "ok": self.ok,
            "result": self.result.as_dict() if self.result else None,
            "progress": self.progress.as_dict(),
        }


def _choose_week(
    weeks: list[tuple[str, LoadedChecklist]], progress: Progress, week: str | None, confirmed: frozenset[str]
) -> str | None:
    """The week to run: the one asked for, the one holding the --confirm ids, or the first with open items."""
    where: dict[str, tuple[str, str]] = {}
    for name, loaded in weeks:
        for item in loaded.model.items:
            where[item.id] = (name, item.uses)
    holding = set()
    for item_id in sorted(confirmed):
        if item_id not in where:
            raise BadInput(f"--confirm {item_id}: no onboarding item has that id (see `opsctl onboard status`)")
        if where[item_id][1] != "manual":
            raise BadInput(f"--confirm {item_id}: opsctl checks that item itself; it cannot be confirmed by hand")
        if week is not None and where[item_id][0] != week:
            raise BadInput(f"--confirm {item_id}: that item is in week {where[item_id][0]}, not week {week}")
        holding.add(where[item_id][0])
    if week is not None:
        return week
    if len(holding) > 1:
        raise BadInput(f"--confirm: the items are in weeks {', '.join(sorted(holding))}; confirm one week at a time")
    if holding:
        return holding.pop()
    following = progress.next_week
    return following.week if following else None


def run_onboarding(
    ws: Workspace,
    who: str | None = None,
    week: str | None = None,
    *,
    confirmed: frozenset[str] = frozenset(),
    prompter: Prompter | None = None,
    observer: Observer | None = None,
) -> OnboardingRun:
    """Run the open items of one week for ``who`` (default: the actor) and record what passed."""
    from opsctl.engine.loader import LoadedChecklist

    person = (who or ws.actor).strip()
    path = progress_path(ws.state_dir, person)
    store = ProgressFile(path, person, ws.clock)
    weeks = load_weeks(ws)
    before = build_progress(person, path, weeks, store.load())
    chosen = _choose_week(weeks, before, parse_week(week) if week is not None else None, confirmed)
    if chosen is None:
        return OnboardingRun(person, None, None, None, before)
    loaded = dict(weeks)[chosen]
    states = {i.id: i.state for i in before.week(chosen).items}
    # Machine checks always run again; a person is asked only about what is still open.
    todo = [
        i
        for i in loaded.model.items
        if i.uses != "manual" or states[i.id] == "open" or (states[i.id] == "skipped" and i.id in confirmed)
    ]
    if not todo:
        return OnboardingRun(person, chosen, None, None, before)
    subset = LoadedChecklist(loaded.name, loaded.source, loaded.model.model_copy(update={"items": todo}), loaded.doc)
    journal = ws.journal(ws.new_run_id(), f"checklist:{loaded.name}", None)
    recorder = _Recorder(store, loaded.name, journal.run, ws.actor, observer)
    ctx = ws.context(
        journal, None, params={"who": person, "week": chosen}, confirmed=confirmed, prompter=prompter, observer=recorder
    )
    journal.event("run", "started", dry_run=False, params=ctx.params)
    try:
        result = _journaled(ctx, subset, path)
    finally:
        ws.run_finished(journal.run)
    after = build_progress(person, path, weeks, store.load())
    return OnboardingRun(person, chosen, journal.run, result, after)


def _journaled(ctx: RunContext, checklist: LoadedChecklist, path: Path) -> ChecklistResult:
    """Run the checklist and write the run's terminal event, however it ends."""
    from opsctl.engine.checklist import run_checklist

    try:
        # Onboarding tracks progress, it guards no change: a person may skip any item, with a reason.
        result = run_checklist(ctx, checklist, skips_need_waivers=False)
    except KeyboardInterrupt:
        ctx.cancel.set()
        ctx.journal.event("run", "interrupted")
        raise Interrupted(f"interrupted; what was already confirmed is kept in {path}") from None
    except Exception as exc:
        ctx.journal.event("run", "error", summary=str(exc))
        raise
    ctx.journal.event("run", result.status.value, counts=result.counts(), duration_ms=round(result.duration_s * 1000))
    return result


@dataclass
class _Recorder:
    """Forwards progress to the view and records every finished item in the person's file at once."""

    store: ProgressFile
    checklist: str
    run: str
    actor: str
    view: Observer | None

    def event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "item.finished":
            self.store.record(f"{self.checklist}/{data['id']}", data, run=self.run, by=self.actor)
        if self.view is not None:
            self.view.event(kind, data)
