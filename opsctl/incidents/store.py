"""Reading incidents back from the audit log, and the lock that keeps their ids sequential.

Incident commands write ``step: "incident"`` events (``runbook: "incident"``,
one run id per command) whose ``status`` says what happened: ``opened``
(with ``severity``, ``title``), ``acknowledged``, ``noted`` (``text``),
``resolved`` (``cause``, ``postmortem_by``), ``postmortem`` (``path``, ``sha256``),
``linked`` (``link``: the channel, ticket or status-page incident made for it)
and ``escalated`` (``level``, ``to``). Every event
carries ``incident: INC-<n>``, as do all events of a run started with
``--incident``; :func:`fold` turns them into :class:`Incident` objects.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from opsctl.audit.line import parse_ts
from opsctl.audit.query import read_events
from opsctl.errors import BadInput
from opsctl.files.statedir import ensure_state_dir
from opsctl.incidents.model import Incident, Note, Severity, incident_number

STEP = "incident"
RUNBOOK = "incident"
INCIDENT_MARK = b'"incident":"'  # cheap pre-filter: only lines naming an incident are parsed
LOCK_NAME = "incidents.lock"


def incident_events(audit_path: Path, incident_id: str | None = None) -> list[dict[str, Any]]:
    """Every event naming an incident (or only ``incident_id``, in its canonical spelling), oldest first."""
    wanted = incident_number(incident_id) if incident_id else None
    found = []
    for event in _marked(audit_path):
        number = incident_number(event.get("incident"))
        if number is not None and (wanted is None or number == wanted):
            found.append(event)
    return found


def _marked(audit_path: Path) -> Iterator[dict[str, Any]]:
    # Only lines naming an incident are parsed: `opsctl report` reads incidents from logs of a million events.
    return read_events(audit_path, (INCIDENT_MARK,))


def fold(events: Iterable[dict[str, Any]]) -> dict[str, Incident]:
    """Incidents by id, in the order they were opened, from their events.

    Events naming an incident that was never opened with opsctl (an id from
    another tracker given to ``--incident``) are ignored.
    """
    incidents: dict[str, Incident] = {}
    for event in events:
        key = f"INC-{incident_number(event.get('incident'))}"
        if event.get("step") == STEP and event.get("status") == "opened":
            opened = _opened(key, event)
            if opened is not None:
                incidents[key] = opened
            continue
        incident = incidents.get(key)
        if incident is not None:
            _apply(incident, event)
    return incidents


def _opened(key: str, event: dict[str, Any]) -> Incident | None:
    try:
        severity = Severity(str(event.get("severity")))
    except ValueError:  # not an event opsctl wrote; `audit verify` is the judge of such lines
        return None
    env = event.get("env")
    return Incident(
        key,
        severity,
        str(event.get("title", "")),
        None if env in (None, "-") else str(env),
        parse_ts(str(event["ts"])),
        str(event.get("actor")),
    )


def _apply(incident: Incident, event: dict[str, Any]) -> None:
    at, actor, status = parse_ts(str(event["ts"])), str(event.get("actor")), event.get("status")
    if event.get("step") == "run":
        run = str(event.get("run"))
        if run not in incident.runs:
            incident.runs.append(run)
            incident.run_envs.append(str(event.get("env")))
        return
    if event.get("step") != STEP:
        return
    if status == "acknowledged" and incident.acknowledged_at is None:
        incident.acknowledged_at, incident.acknowledged_by = at, actor
    elif status == "noted":
        incident.notes.append(Note(at, actor, str(event.get("text", ""))))
    elif status == "resolved" and incident.resolved_at is None:
        incident.resolved_at, incident.resolved_by, incident.cause = at, actor, str(event.get("cause", ""))
        incident.postmortem_by = _day(event.get("postmortem_by"))
    elif status == "linked" and isinstance(event.get("link"), dict):
        link = dict(event["link"])
        incident.links[str(link.pop("kind", "link"))] = link
    elif status == "escalated" and isinstance(event.get("level"), int):
        incident.escalation_level = max(incident.escalation_level, event["level"])
    elif status == "postmortem":
        incident.postmortem = str(event.get("path"))


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def load_all(audit_path: Path) -> list[Incident]:
    """Every incident opened with opsctl, oldest first."""
    return list(fold(incident_events(audit_path)).values())


def load(audit_path: Path, incident_id: str) -> Incident:
    """One incident, or BadInput naming the id."""
    found = fold(incident_events(audit_path, incident_id)).get(incident_id)
    if found is None:
        raise BadInput(f"no incident {incident_id} in the audit log (see `opsctl incident list`)")
    return found


def next_number(audit_path: Path) -> int:
    """One more than any incident number the log mentions, opened here or only named by a run."""
    numbers = (incident_number(e.get("incident")) for e in _marked(audit_path))
    return max((n for n in numbers if n is not None), default=0) + 1


@contextmanager
def locked(state_dir: Path) -> Iterator[None]:
    """Hold the project's incident lock: two ``incident open`` at once must not take the same number.

    The audit log's own lock covers one append; choosing the number reads the
    log first, so the read and the append must happen under one lock.
    """
    ensure_state_dir(state_dir)
    fd = os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the flock
