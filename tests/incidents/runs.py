"""Deploy and rollback runs written into a real audit log the way opsctl.runs.run writes them.

For tests that need exact output (the post-mortem compared with a file):
run ids, times and health summaries must not vary. ``test_rollback_flow``
drives a real rollback through the CLI instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsctl.workspace import Workspace
from tests.incidents.support import Clock


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    uses: str
    status: str
    summary: str


@dataclass(frozen=True)
class Checklist:
    step: str
    name: str
    status: str
    items: tuple[Item, ...]


@dataclass
class Run:
    run: str
    runbook: str
    env: str
    params: dict[str, Any]
    before: str  # images; release ids are derived from them
    after: str
    status: str = "succeeded"
    summary: str = ""
    checklists: tuple[Checklist, ...] = ()
    incident: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def release(image: str) -> dict[str, Any]:
    tag = image.rsplit(":", 1)[-1]
    return {"id": f"hvb-release-{tag}", "image": image, "tag": tag, "created_at": None}


def record(ws: Workspace, clock: Clock, run: Run, start_minute: float, end_minute: float) -> None:
    """The run's run-level, checklist and item events, as the runner journals them."""
    extra: dict[str, Any] = {"change_type": "standard" if run.runbook == "rollback" else "normal"}
    if run.incident:
        extra["incident"] = run.incident
    journal = ws.journal(run.run, run.runbook, run.env, **extra)
    clock.at(start_minute)
    journal.event("run", "started", params=run.params, digest="0" * 64, dry_run=False)
    for checklist in run.checklists:
        journal.event(checklist.step, "started", checklist=checklist.name, title=checklist.name)
        counts = {"passed": 0, "failed": 0, "warned": 0, "skipped": 0}
        for item in checklist.items:
            counts[item.status] = counts.get(item.status, 0) + 1  # waived, not_applicable: as the runner counts them
            journal.event(
                f"{checklist.step}/{item.id}",
                item.status,
                title=item.title,
                uses=item.uses,
                summary=item.summary,
                blocking=True,
                attempts=1,
                duration_ms=40,
            )
        journal.event(checklist.step, checklist.status, checklist=checklist.name, counts=counts, duration_ms=120)
    clock.at(end_minute)
    ok = run.status in ("succeeded", "rolled_back")
    journal.event(
        "run",
        run.status,
        summary=run.summary,
        release_before=release(run.before),
        release_after=release(run.after) if ok else None,
        attempted=release(run.after),
        verified=run.status == "succeeded",
    )


def passed(step: str, name: str, *extra: Item) -> Checklist:
    items = (
        Item("health", "Health checks passing", "health.live", "passed", "status ok"),
        Item("version", "The new version is what serves", "health.version", "passed", "3 of 3 probes"),
        Item("integrations", "External integrations working", "health.dependencies", "passed", "all ok"),
    )
    status = "warned" if any(i.status == "warned" for i in extra) else "passed"
    return Checklist(step, name, status, items + extra)
