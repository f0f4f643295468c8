"""The incident an emergency change answers: an open one named by its id, or one opened for the change.

A hot-patch skips the normal change's approvals and promotion because an
incident justifies it, so the incident must be real: opened with opsctl (it
is in the audit log) and not resolved. ``--incident new --severity P1 --title
TEXT`` opens one exactly as ``opsctl incident open`` does (paging included).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from opsctl.errors import BadInput
from opsctl.incidents import store
from opsctl.incidents.comms import when
from opsctl.incidents.lifecycle import open_incident
from opsctl.incidents.model import Incident, parse_incident_id, parse_severity

if TYPE_CHECKING:
    from opsctl.incidents.lifecycle import Change
    from opsctl.workspace import Workspace

NEW = "new"  # `--incident new`: open one for this change
HOW = "--incident new --severity P1 --title TEXT"
NEEDS_INCIDENT = f"a hot-patch needs an incident: pass --incident INC-N (see `opsctl incident list`), or {HOW}"


def require_open(audit_path: Path, text: str | None) -> Incident:
    """The open (not resolved) incident ``text`` names; BadInput saying what is missing otherwise."""
    if not text or not text.strip():
        raise BadInput(NEEDS_INCIDENT)
    incident_id = parse_incident_id(text)
    incident = store.fold(store.incident_events(audit_path, incident_id)).get(incident_id)
    if incident is None:
        raise BadInput(
            f"no incident {incident_id} in the audit log: a hot-patch needs an open incident "
            f"(see `opsctl incident list`), or {HOW}"
        )
    if incident.resolved_at is not None:
        raise BadInput(
            f"{incident_id} is resolved (by {incident.resolved_by} at {when(incident.resolved_at)}): "
            f"a hot-patch needs an open incident (see `opsctl incident list --open`), or {HOW}"
        )
    return incident


def open_for_change(
    ws: Workspace,
    incident: str | None,
    *,
    severity: str | None,
    title: str | None,
    env: str,
    dry_run: bool = False,
) -> Change | None:
    """With ``--incident new``, open the incident the change answers (None: an id was given, checked later).

    ``--severity`` and ``--title`` belong to ``--incident new`` only: given with an
    id they would be silently ignored, so they are refused.
    """
    if incident is None or incident.strip().lower() != NEW:
        if severity is not None or title is not None:
            raise BadInput(f"--severity and --title open a new incident: pass them with {HOW}")
        return None
    if severity is None or title is None:
        raise BadInput(f"--incident new opens an incident and needs --severity and --title: {HOW}")
    if dry_run:
        # Opening records the incident and pages people: not something a dry run may do.
        raise BadInput(
            "--incident new opens a real incident (and pages), which a dry run must not do: "
            "open it first with `opsctl incident open`, then pass --incident INC-N"
        )
    chosen = parse_severity(severity)  # before anything is recorded: a bad severity opens nothing
    ws.config.environment(env)
    return open_incident(ws, chosen, title, env)
