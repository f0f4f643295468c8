"""Projects with a realistic history (benchmarks/make_log.py), and the answers commands give about it."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from opsctl.audit.index import INDEX_NAME
from tests.support.clirunner import opsctl
from tests.support.context import FIXED_NOW

REPO = Path(__file__).resolve().parents[3]
END = FIXED_NOW - timedelta(hours=1)  # the history ends an hour before the tests' clock
# The history commands, as --json documents (what scripts read, and all a person's table is drawn from).
COMMANDS = (
    ("runs",),
    ("runs", "--env", "production", "--limit", "7"),
    ("releases", "staging"),
    ("releases", "production", "--limit", "3"),
    ("releases", "development", "--all"),
    ("incident", "list"),
    ("report", "--since", "30d"),
    ("report", "--since", "400d", "--env", "staging"),
)


def make_log_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_log", REPO / "benchmarks" / "make_log.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_project(root: Path, events: int, seed: int = 19) -> Path:
    """A project folder at ``root`` with about ``events`` events of two years' history."""
    make_log_module().write(root, events, END, seed, None)
    return root


def index_file(project: Path) -> Path:
    return project / ".opsctl" / INDEX_NAME


def log_file(project: Path) -> Path:
    return project / ".opsctl" / "audit.jsonl"


def answers(project: Path) -> dict[str, Any]:
    """Each history command's exit code and --json document."""
    found: dict[str, Any] = {}
    cwd = Path.cwd()
    os.chdir(project)
    try:
        for command in COMMANDS:
            result = opsctl("--json", *command)
            found[" ".join(command)] = (result.code, json.loads(result.out) if result.out.strip() else result.err)
    finally:
        os.chdir(cwd)
    return found


@contextmanager
def no_index(project: Path) -> Iterator[None]:
    """Commands read the log itself: a folder where the index file goes cannot be opened as one."""
    path = index_file(project)
    saved = path.with_name("saved-index")
    if path.exists():
        path.rename(saved)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.rename(saved.with_name(saved.name + suffix))
    path.mkdir()
    try:
        yield
    finally:
        path.rmdir()
        if saved.exists():
            saved.rename(path)
        for suffix in ("-wal", "-shm"):
            kept = saved.with_name(saved.name + suffix)
            if kept.exists():
                kept.rename(path.with_name(path.name + suffix))


def log_answers(project: Path) -> dict[str, Any]:
    """What the commands say reading the log alone (the truth the index must give back)."""
    with no_index(project):
        return answers(project)


def meta(project: Path) -> dict[str, Any]:
    """The index's record of how far it covers the log."""
    with sqlite3.connect(index_file(project)) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM meta").fetchone()
        return dict(row) if row else {}


def counts(project: Path) -> tuple[int, int]:
    """(runs with a summary, event lines) the index holds."""
    with sqlite3.connect(index_file(project)) as conn:
        runs = conn.execute("SELECT count(*) FROM runs WHERE ord IS NOT NULL").fetchone()[0]
        lines = conn.execute("SELECT count(*) FROM lines").fetchone()[0]
    return int(runs), int(lines)


def copy_project(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target
