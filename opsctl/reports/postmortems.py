"""A post-mortem's action items, read from its Markdown file (the ``## Action items`` table).

The draft ``opsctl incident postmortem`` writes has an empty table whose rows
are prompts (``_Prevent it:_``); an action item is a row with an action or an
owner written in. The file's path comes from the audit log, so it is read
only inside the project folder, and only its first :data:`MAX_BYTES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_BYTES = 256 * 1024
_HEADING = re.compile(r"^#{1,6}\s+action items\s*$", re.IGNORECASE)
_PROMPT = re.compile(r"^_[^_]*_\s*")  # "_Prevent it:_ add a canary" -> "add a canary"
_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}")


@dataclass(frozen=True)
class ActionItem:
    action: str
    owner: str
    due: str
    ticket: str

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "owner": self.owner, "due": self.due, "ticket": self.ticket}


@dataclass(frozen=True)
class PostmortemFile:
    """What the file says: its action items, or why it could not be read."""

    path: str
    items: tuple[ActionItem, ...] = ()
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "action_items": [i.as_dict() for i in self.items], "problem": self.problem or None}


def read_postmortem(project_dir: Path, recorded: str) -> PostmortemFile:
    """The action items of the post-mortem recorded at ``recorded`` (relative to the project, or absolute)."""
    root = project_dir.resolve()
    path = (root / recorded).resolve()
    if not path.is_relative_to(root):
        return PostmortemFile(recorded, problem="outside the project folder: not read")
    try:
        with path.open("rb") as handle:
            text = handle.read(MAX_BYTES).decode("utf-8", "replace")
    except OSError as exc:
        return PostmortemFile(recorded, problem=f"cannot be read: {exc.strerror or exc}")
    return PostmortemFile(recorded, tuple(action_items(text)))


def action_items(markdown: str) -> list[ActionItem]:
    """The filled-in rows of the first ``Action items`` table."""
    lines = markdown.splitlines()
    start = next((i for i, line in enumerate(lines) if _HEADING.match(line.strip())), None)
    if start is None:
        return []
    found: list[ActionItem] = []
    header_seen = False
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if stripped.startswith("#"):
            break
        if not stripped.startswith("|") or _SEPARATOR.match(stripped):
            continue
        if not header_seen:  # the table's header row: Action | Owner | Due | Ticket
            header_seen = True
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")] + ["", "", "", ""]
        action = _PROMPT.sub("", cells[0]).strip()
        if action or cells[1]:
            found.append(ActionItem(action or cells[0], cells[1], cells[2], cells[3]))
    return found
