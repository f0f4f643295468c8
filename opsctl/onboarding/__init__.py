"""``opsctl onboard``: the seed's onboarding plan as checklists, with progress kept per person.

Weeks 1..3 and "ongoing" are the checklists ``onboarding-week-1`` ...
``onboarding-ongoing`` (a project's own file replaces the built-in). A run
takes one week and runs its open items through the checklist engine, as a
journaled run of its own: manual items not yet confirmed, and every
machine-checked item (re-checked each time). Progress lives in
``<state_dir>/onboarding/<who>.json``; an item stays done once it was
confirmed or passed, with when, by whom and in which run. Each finished item
is recorded as it finishes, so Ctrl-C keeps what was already confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput, Interrupted
from opsctl.onboarding.progress import (
    ItemProgress,
    Progress,
    ProgressFile,
    WeekProgress,
    build_progress,
    progress_path,
)

if TYPE_CHECKING:
    from pathlib import Path

    from opsctl.engine.checklist import ChecklistResult
    from opsctl.engine.context import Observer, Prompter, RunContext
    from opsctl.engine.loader import LoadedChecklist
    from opsctl.workspace import Workspace

__all__ = [
    "WEEKS",
    "ItemProgress",
    "OnboardingRun",
    "Progress",
    "WeekProgress",
    "onboarding_status",
    "parse_week",
    "run_onboarding",
]

WEEKS = ("1", "2", "3", "ongoing")


def checklist_name(week: str) -> str:
    return "onboarding-ongoing" if week == "ongoing" else f"onboarding-week-{week}"


def parse_week(text: str) -> str:
    """``--week`` value: 1, 2, 3 or ongoing (``week-2`` and ``Ongoing`` are accepted too)."""
    week = text.strip().lower().removeprefix("week").strip(" -")
    if week not in WEEKS:
        raise BadInput(f"--week {text}: choose 1, 2, 3 or ongoing")
    return week


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


def _weeks(ws: Workspace) -> list[tuple[str, LoadedChecklist]]:
    from opsctl.engine.loader import load_checklist

    return [(week, load_checklist(checklist_name(week), ws.config.project_dir)) for week in WEEKS]


def onboarding_status(ws: Workspace, who: str | None = None) -> Progress:
    """Read-only: each week's items and where they stand for ``who`` (default: the actor)."""
    person = (who or ws.actor).strip()
    path = progress_path(ws.state_dir, person)
    return build_progress(person, path, _weeks(ws), ProgressFile(path, person, ws.clock).load())


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
    weeks = _weeks(ws)
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
        result = run_checklist(ctx, checklist)
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
