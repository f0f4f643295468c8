"""Incidents for tests of the runs that answer them (a hot-patch needs an open incident).

``opsctl incident open`` numbers incidents 1, 2, 3...; tests that pin an id
such as INC-42 record its ``opened`` event under that id, the way
:mod:`opsctl.incidents.lifecycle` journals it, through the project's own
workspace (its audit log, chain and all). Nothing is paged or posted.
"""

from __future__ import annotations

from pathlib import Path

from opsctl.incidents import store
from opsctl.workspace import Workspace

ONCALL = "oncall@example.com"


def record_open_incident(
    config: Path, incident_id: str, *, env: str | None = None, severity: str = "P1", title: str = "guests cannot book"
) -> None:
    """Journal ``incident_id`` as opened (``severity``, ``title``) in the project of ``config``."""
    ws = Workspace.load(str(config), actor=ONCALL)
    journal = ws.journal(ws.new_run_id(), store.RUNBOOK, env, incident=incident_id)
    journal.event(store.STEP, "opened", severity=severity, title=title, summary=f"{incident_id} opened ({severity})")
