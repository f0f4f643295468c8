"""The onboarding plan: its weeks, their checklists, and where a person stands in them.

Weeks 1..3 and "ongoing" are the checklists ``onboarding-week-1`` ...
``onboarding-ongoing``; a project's own file of the same name replaces the built-in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsctl.errors import BadInput
from opsctl.onboarding.progress import Progress, ProgressFile, build_progress, progress_path

if TYPE_CHECKING:
    from opsctl.engine.loader import LoadedChecklist
    from opsctl.workspace import Workspace

__all__ = ["WEEKS", "checklist_name", "load_weeks", "onboarding_status", "parse_week"]

WEEKS = ("1", "2", "3", "ongoing")


def checklist_name(week: str) -> str:
    """The checklist that holds ``week``'s items."""
    return "onboarding-ongoing" if week == "ongoing" else f"onboarding-week-{week}"


def parse_week(text: str) -> str:
    """``--week`` value: 1, 2, 3 or ongoing (``week-2`` and ``Ongoing`` are accepted too)."""
    week = text.strip().lower().removeprefix("week").strip(" -")
    if week not in WEEKS:
        raise BadInput(f"--week {text}: choose 1, 2, 3 or ongoing")
    return week


def load_weeks(ws: Workspace) -> list[tuple[str, LoadedChecklist]]:
    """Every week with its checklist (project file first), in order."""
    from opsctl.engine.loader import load_checklist

    return [(week, load_checklist(checklist_name(week), ws.config.project_dir)) for week in WEEKS]


def onboarding_status(ws: Workspace, who: str | None = None) -> Progress:
    """Read-only: each week's items and where they stand for ``who`` (default: the actor)."""
    person = (who or ws.actor).strip()
    path = progress_path(ws.state_dir, person)
    return build_progress(person, path, load_weeks(ws), ProgressFile(path, person, ws.clock).load())
