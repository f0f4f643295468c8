"""Onboarding progress: where each item stands for one person, and the file that keeps it.

``<state_dir>/onboarding/<who>.json`` holds ``{"version": 1, "who": ...,
"items": {"<checklist>/<item id>": {...}}}``. An item is ``open`` until it is
``done`` (confirmed by a person, or passed a machine check) or ``skipped``
(by a person, with a reason); once done it stays done, with when, by whom
and in which run, while its last check is updated on every run.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput
from opsctl.files.oserrors import describe_os_error
from opsctl.files.paths import display_path

if TYPE_CHECKING:
    from opsctl.engine.loader import LoadedChecklist

RESOLVED = frozenset({"done", "skipped"})


@dataclass(frozen=True)
class ItemProgress:
    """Where one item stands for one person: open, done or skipped (with a reason)."""

    id: str
    title: str
    uses: str
    state: str  # open | done | skipped
    at: str | None = None
    by: str | None = None
    run: str | None = None
    summary: str = ""
    last_status: str | None = None
    last_summary: str = ""
    last_checked: str | None = None

    @property
    def machine(self) -> bool:
        return self.uses != "manual"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "machine": self.machine}


@dataclass(frozen=True)
class WeekProgress:
    week: str
    checklist: str
    title: str
    items: tuple[ItemProgress, ...]

    @property
    def resolved(self) -> int:
        return sum(1 for i in self.items if i.state in RESOLVED)

    @property
    def complete(self) -> bool:
        return self.resolved == len(self.items)

    @property
    def next_item(self) -> ItemProgress | None:
        return next((i for i in self.items if i.state not in RESOLVED), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "checklist": self.checklist,
            "title": self.title,
            "done": self.resolved,
            "total": len(self.items),
            "complete": self.complete,
            "next": self.next_item.id if self.next_item else None,
            "items": [i.as_dict() for i in self.items],
        }


@dataclass(frozen=True)
class Progress:
    who: str
    path: Path
    weeks: tuple[WeekProgress, ...]

    @property
    def next_week(self) -> WeekProgress | None:
        return next((w for w in self.weeks if not w.complete), None)

    @property
    def complete(self) -> bool:
        return self.next_week is None

    def week(self, week: str) -> WeekProgress:
        return next(w for w in self.weeks if w.week == week)

    def as_dict(self) -> dict[str, Any]:
        following = self.next_week
        item = following.next_item if following else None
        return {
            "who": self.who,
            "path": str(self.path),
            "complete": self.complete,
            "next": {"week": following.week, "id": item.id, "title": item.title} if following and item else None,
            "weeks": [w.as_dict() for w in self.weeks],
        }


def build_progress(who: str, path: Path, weeks: list[tuple[str, LoadedChecklist]], records: dict[str, Any]) -> Progress:
    """Each week's items with their state for ``who``, from the records of the progress file."""
    built = []
    for week, loaded in weeks:
        items = []
        for item in loaded.model.items:
            rec = records.get(f"{loaded.name}/{item.id}") or {}
            items.append(
                ItemProgress(
                    item.id,
                    item.title,
                    item.uses,
                    str(rec.get("state") or "open"),
                    rec.get("at"),
                    rec.get("by"),
                    rec.get("run"),
                    str(rec.get("summary") or ""),
                    rec.get("last_status"),
                    str(rec.get("last_summary") or ""),
                    rec.get("last_checked"),
                )
            )
        built.append(WeekProgress(week, loaded.name, loaded.model.title, tuple(items)))
    return Progress(who, path, tuple(built))


def progress_path(state_dir: Path, who: str) -> Path:
    """``<state_dir>/onboarding/<who>.json``; characters unsafe in a file name become ``_``."""
    name = re.sub(r"[^A-Za-z0-9@._+-]", "_", who.strip()).lstrip(".")
    if not name:
        raise BadInput(f"--who '{who}': give a person, e.g. --who alice@example.com")
    return state_dir / "onboarding" / f"{name}.json"


@dataclass
class ProgressFile:
    """One person's progress: ``{"version": 1, "who": ..., "items": {"<checklist>/<id>": {...}}}``.

    Written atomically (a temporary file renamed over the old one) under an
    exclusive lock on the folder, so concurrent items and runs never lose an update.
    """

    path: Path
    who: str
    clock: Callable[[], datetime]
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def load(self) -> dict[str, Any]:
        if not os.path.lexists(self.path):
            return {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:  # a folder or a dangling symlink at the path: the machine's state, not a bug
            raise BadInput(f"onboarding progress {describe_os_error(self.path, exc)}") from None
        try:
            data = json.loads(text)
            items = data["items"]
            if not isinstance(items, dict):
                raise TypeError("items is not a mapping")
        except (ValueError, KeyError, TypeError) as exc:
            raise BadInput(f"{self.path}: not valid onboarding progress ({exc}); fix it or move it away") from None
        return items

    def record(self, key: str, data: dict[str, Any], *, run: str, by: str) -> None:
        """Remember one finished item; an item once done stays done (its last check is updated)."""
        from opsctl.audit.line import format_ts

        now = format_ts(self.clock())
        with self._lock, _folder_lock(self.path.parent):
            items = self.load()
            rec = dict(items.get(key) or {"state": "open"})
            rec.update(last_status=data["status"], last_summary=data["summary"], last_checked=now, last_run=run)
            reached = _resolution(data)
            if reached is not None and rec["state"] != "done" and rec["state"] != reached:
                rec.update(state=reached, at=now, by=by, run=run, summary=data["summary"])
            items[key] = rec
            self._write({"version": 1, "who": self.who, "updated": now, "items": items})

    def _write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:  # a full disk, a folder at the path: one line, exit 2
            raise BadInput(f"onboarding progress {describe_os_error(self.path, exc)}") from None


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive flock on the progress folder (made 0700 inside the state folder on first use)."""
    from opsctl.files.statedir import ensure_state_dir

    ensure_state_dir(folder.parent)
    try:
        if os.path.lexists(folder) and not folder.is_dir():
            os.stat(folder)  # a dangling symlink raises here, and is described below
            raise BadInput(f"onboarding progress folder {display_path(folder)}: not a directory; move it away")
        folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise BadInput(f"onboarding progress folder {describe_os_error(folder, exc)}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _resolution(item: dict[str, Any]) -> str | None:
    """done (passed or warned), skipped (by a person with a reason, or its condition is false), else None."""
    if item["status"] in ("passed", "warned"):
        return "done"
    detail = item.get("detail") or {}
    if item["status"] == "not_applicable":  # its `when` is false (older runs recorded it as skipped)
        return "skipped"
    if item["status"] == "skipped" and (detail.get("skipped_by") or str(item["summary"]).startswith("condition is")):
        return "skipped"
    return None
