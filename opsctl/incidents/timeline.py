"""An incident's story, read from the audit log: its timeline and the changes (runs) involved.

Nothing here is stored twice. The timeline is the incident's own events plus
the run-level events of the rollbacks and hot-patches started with
``--incident``; their releases and verification results come from those
runs' events (see :mod:`opsctl.audit.query`). Deploys to the same environment
shortly before the incident opened are listed too, as suspects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from opsctl.audit.line import format_ts, parse_ts
from opsctl.audit.query import DEPLOYING, Requested, RunSummary, load_runs, run_events, summarize
from opsctl.engine.outcome import describe_counts
from opsctl.incidents import store
from opsctl.incidents.model import Incident, incident_number

SUSPECT_WINDOW = timedelta(hours=24)  # how far back a deploy counts as a possible cause
SUSPECT_LIMIT = 3
_FINISHED = frozenset({"passed", "failed", "warned", "skipped"})


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: datetime
    actor: str
    kind: str  # incident | run | notify
    status: str
    what: str
    run: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": format_ts(self.at),
            "actor": self.actor,
            "kind": self.kind,
            "status": self.status,
            "what": self.what,
            "run": self.run,
        }


@dataclass(frozen=True)
class Check:
    """A verification result of a run: a checklist's verdict, or (``item``) one of its items that did not pass.

    A ``waived`` item is a gate the run went past without it being done: a
    post-mortem names it, with its reason and approvers (in ``summary``).
    """

    name: str
    status: str
    summary: str
    item: bool = False


@dataclass(frozen=True)
class ChangeRecord:
    """A deploy, rollback or hot-patch involved: started for the incident, or a suspect just before it."""

    run: RunSummary
    linked: bool
    checks: tuple[Check, ...]

    @property
    def image_before(self) -> str | None:
        return self.run.image_before

    @property
    def image_after(self) -> str | None:
        return self.run.image_after

    @property
    def waived(self) -> tuple[Check, ...]:
        """The gates this run went past by a waiver."""
        return tuple(c for c in self.checks if c.item and c.status == "waived")

    def as_dict(self) -> dict[str, Any]:
        checks = [{"name": c.name, "status": c.status, "summary": c.summary, "item": c.item} for c in self.checks]
        return {
            **self.run.as_dict(),
            "linked": self.linked,
            "image_before": self.image_before,
            "image_after": self.image_after,
            "checks": checks,
            "waived": [{"name": c.name, "summary": c.summary} for c in self.waived],
        }


@dataclass(frozen=True)
class IncidentReport:
    """Everything ``incident show`` and the post-mortem draw."""

    incident: Incident
    timeline: tuple[Entry, ...]
    changes: tuple[ChangeRecord, ...]
    now: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.incident.as_dict(self.now),
            "timeline": [e.as_dict() for e in self.timeline],
            "changes": [c.as_dict() for c in self.changes],
        }


def incident_report(audit_path: Path, incident_id: str, now: datetime) -> IncidentReport:
    """The incident, its timeline and its changes (BadInput when the id is unknown)."""
    incident = store.load(audit_path, incident_id)
    events = store.incident_events(audit_path, incident_id)
    timeline = tuple(entry for entry in (_entry(e) for e in events) if entry is not None)
    by_run: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_run.setdefault(str(event.get("run")), []).append(event)
    linked = [
        ChangeRecord(run, True, verification(by_run.get(run.run, [])))
        for run in summarize(events)
        if run.runbook != store.RUNBOOK
    ]
    return IncidentReport(incident, timeline, tuple(_suspects(audit_path, incident, linked) + linked), now)


def _entry(event: dict[str, Any]) -> Entry | None:
    step, status = event.get("step"), str(event.get("status"))
    if step == store.STEP:
        what = _incident_line(event)
        kind = "incident"
    elif step == "run":
        what = _run_line(event)
        kind = "run"
    elif step == "notify" and event.get("runbook") == store.RUNBOOK:  # the incident's own pages and posts
        what = str(event.get("summary", ""))
        kind = "notify"
    else:
        return None
    return Entry(parse_ts(str(event["ts"])), str(event.get("actor")), kind, status, what, str(event.get("run")))


def _incident_line(event: dict[str, Any]) -> str:
    status = event.get("status")
    if status == "opened":
        where = f" in {event['env']}" if event.get("env") not in (None, "-") else ""
        return f"opened as {event.get('severity')}{where}: {event.get('title')}"
    if status == "noted":
        return f"note{' (public)' if event.get('public') else ''}: {event.get('text')}"
    if status == "linked":
        return _link_line(event.get("link") or {})
    if status == "escalated":
        to = ", ".join(str(p) for p in event.get("to") or []) or "nobody on call"
        return f"escalated to level {event.get('level')}: {to}"
    if status == "resolved":
        return f"resolved: {event.get('cause')}"
    if status == "postmortem":
        return f"post-mortem written to {event.get('path')}"
    return str(status)


def _link_line(link: dict[str, Any]) -> str:
    kind = link.get("kind")
    if kind == "channel":
        return f"channel #{link.get('name')}: {link.get('url')}"
    if kind == "ticket":
        return f"ticket #{link.get('number')}: {link.get('url')}"
    if kind == "statuspage":
        return f"status page incident {link.get('id')}: {link.get('url') or '-'}"
    return f"{kind}: {link.get('url')}"


def _run_line(event: dict[str, Any]) -> str:
    runbook, status, env = event.get("runbook"), event.get("status"), event.get("env")
    if status == "started":
        asked = Requested.of(event.get("params"))
        target = asked.image or (f"to {asked.to}" if asked.to else "to the last verified release")
        reason = f" ({asked.reason})" if asked.reason else ""
        return f"{runbook} started in {env}: {target}{reason}"
    summary = str(event.get("summary") or "")
    if summary.startswith(f"{runbook} "):  # "rollback succeeded: hvb:2 (hvb:1.8.0) verified" says it all
        return summary
    return f"{runbook} {status}" + (f": {summary}" if summary else "")


def verification(events: Iterable[dict[str, Any]]) -> tuple[Check, ...]:
    """A run's checklist verdicts, each followed by its items that failed, warned or were waived."""
    checks: list[Check] = []
    pending: dict[str, list[Check]] = {}  # items come before their checklist's verdict in the log
    for event in events:
        step, status = str(event.get("step")), event.get("status")
        if event.get("checklist") and "counts" in event and status in _FINISHED:
            counts = event.get("counts") or {}
            checks.append(Check(str(event["checklist"]), str(status), describe_counts(counts)))
            checks.extend(pending.pop(step, []))
        elif event.get("uses") and status in ("failed", "warned", "waived"):
            parent, _, item = step.rpartition("/")
            found = Check(item or step, str(status), str(event.get("summary", "")), item=True)
            pending.setdefault(parent, []).append(found)
    return tuple(checks + [c for items in pending.values() for c in items])


def _suspects(audit_path: Path, incident: Incident, linked: list[ChangeRecord]) -> list[ChangeRecord]:
    """Deploys and hot-patches in the incident's environments that finished in the day before it opened.

    Dry runs change nothing, so they never caused anything: they are no suspects.
    """
    envs = set(incident.envs)
    if not envs:
        return []
    known = {c.run.run for c in linked}
    since = incident.opened_at - SUSPECT_WINDOW
    runs = [
        r
        for r in load_runs(audit_path)
        if r.env in envs
        and r.runbook in DEPLOYING
        and r.run not in known
        and r.finished
        and not r.dry_run
        and incident_number(r.incident) is None
        and since <= parse_ts(r.finished) <= incident.opened_at
    ][-SUSPECT_LIMIT:]
    return [ChangeRecord(r, False, verification(run_events(audit_path, r.run))) for r in runs]
