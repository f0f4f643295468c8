"""Why a Fly machine did not come up on the new image: its events (exits, OOM kills) and failing checks.

Built from one ``GET /machines/{id}`` answer, which carries the machine's
recent events and its check results. The Machines API has no log endpoint, so
the diagnosis says where the logs are instead (``fly logs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from opsctl.platforms.fly_machines import config_of

MAX_EVENTS = 10  # machine events listed (the newest, since the latest update)
MAX_OUTPUT = 300  # characters of a check's output kept


def fly_logs(app: str, machine_id: str | None = None) -> str:
    """The flyctl command that shows what opsctl cannot: the app's (or one machine's) logs."""
    return f"fly logs --app {app}" + (f" --machine {machine_id}" if machine_id else "")


def _ts(value: Any) -> str | None:
    try:
        moment = datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def machine_events(machine: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The machine's events since its latest update (or launch), oldest first, with exit details."""
    events = sorted(
        (e for e in machine.get("events") or [] if isinstance(e, dict)), key=lambda e: int(e.get("timestamp") or 0)
    )
    updates = [i for i, e in enumerate(events) if e.get("type") in {"update", "launch"}]
    recent = events[updates[-1] :] if updates else events
    found: list[dict[str, Any]] = []
    for event in recent[-MAX_EVENTS:]:
        exit_event = (event.get("request") or {}).get("exit_event") or {}
        row: dict[str, Any] = {
            "type": event.get("type"),
            "status": event.get("status"),
            "at": _ts(event.get("timestamp")),
        }
        if exit_event:
            row["exit_code"] = exit_event.get("exit_code")
            row["oom_killed"] = bool(exit_event.get("oom_killed"))
            if exit_event.get("requested_stop"):
                row["requested_stop"] = True
        found.append(row)
    return found


def failing_checks(machine: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Checks whose last result is not passing, with (the start of) their output."""
    return [
        {"name": c.get("name"), "status": c.get("status"), "output": str(c.get("output") or "").strip()[:MAX_OUTPUT]}
        for c in machine.get("checks") or []
        if isinstance(c, dict) and c.get("status") != "passing"
    ]


def diagnose_machine(
    machine: Mapping[str, Any] | None, *, machine_id: str, app: str, image: str, verdict: str, reason: str
) -> dict[str, Any]:
    """The structured diagnosis of one machine, and its text."""
    machine = machine or {}
    events = machine_events(machine) if machine else []
    checks = failing_checks(machine) if machine else []
    diagnosis: dict[str, Any] = {
        "platform": "fly",
        "verdict": verdict,
        "reason": reason,
        "machine": machine_id,
        "state": machine.get("state"),
        "instance": machine.get("instance_id"),
        "image": config_of(machine).get("image") or image,
        "events": events,
        "checks": checks,
        "notes": [f"machine logs are not available through the Machines API: run `{fly_logs(app, machine_id)}`"],
    }
    if not machine:
        diagnosis["notes"].insert(0, f"machine {machine_id} could not be read")
    diagnosis["text"] = diagnosis_text(diagnosis)
    return diagnosis


def diagnosis_text(diagnosis: Mapping[str, Any]) -> str:
    lines = [f"why: {diagnosis['reason']}"]
    lines.append(
        f"machine {diagnosis['machine']} (instance {diagnosis.get('instance') or '?'}): {diagnosis.get('state')}"
    )
    for event in diagnosis.get("events") or []:
        line = f"  {event.get('at') or '?'} {event.get('type')} {event.get('status')}"
        if "exit_code" in event:
            line += f", exit code {event['exit_code']}"
        if event.get("oom_killed"):
            line += ", killed: out of memory (OOM)"
        lines.append(line)
    for check in diagnosis.get("checks") or []:
        output = f": {check['output']}" if check.get("output") else ""
        lines.append(f"check {check.get('name')} {check.get('status')}{output}")
    lines += [f"note: {note}" for note in diagnosis.get("notes") or []]
    return "\n".join(lines)
