"""The audit index's file: where it lives, its tables, and opening it (stdlib ``sqlite3``).

The index is derived data, so durability is traded for speed (WAL,
``synchronous=OFF``): a process killed mid-update leaves its transaction
uncommitted, which SQLite rolls back; an OS crash may lose the last updates
(caught up from the log) or damage the file (rebuilt from the log). Its tables:

``meta``
    one row: how far the index covers the log (``covered``), where the last
    covered line starts and its SHA-256, the first line's length and SHA-256,
    and the log file's inode, size and mtime when the index last caught up.
``runs``
    one row per run id: where its lines start and end in the log, its first
    and last event time, and, once it has a ``step: "run"`` event, its place
    in run order (``ord``: the offset of that first event), environment,
    runbook and folded :class:`~opsctl.audit.query.summary.RunSummary`.
``lines``
    one row per event line: byte offset, length, run, and which of
    :data:`MARKS` it holds (bits), so a reader ``pread``s just the lines it needs.
``marked``
    (mark, offset) for every line holding a mark, so "every incident line" is
    an index range, not a scan.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

INDEX_NAME = "index.sqlite"
SCHEMA_VERSION = 1  # bump when a table or what a column means changes: an older index is rebuilt

# The byte marks readers ask for (``read_events(log, marks)``), as the log spells them; a read whose marks
# are all here is answered from the index. Unknown marks still work: they scan the log as before.
MARKS: tuple[bytes, ...] = (
    b'"step":"run"',  # run-level events (opsctl.audit.query.summary.RUN_MARK)
    b'"incident":"',  # events naming an incident (opsctl.incidents.store.INCIDENT_MARK)
    b'"rollback_of":"',  # automatic rollbacks' events (opsctl.kpis.figures.ROLLBACK_MARK)
    b'"status":"waived"',  # waived manual gates (opsctl.kpis.waivers.WAIVED_MARK)
    b'"step":"platform.leases"',  # platform leases (opsctl.actions.platform_leases)
    b'"step":"lock.release"',  # broken locks (opsctl.runs.fencing)
)
# A line whose raw bytes hold ``"run":"<its own run id>"``: what ``run_events`` looks for.
RUN_BIT = 1 << len(MARKS)

_TABLES = (
    """CREATE TABLE meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        covered INTEGER NOT NULL, tail_off INTEGER NOT NULL, tail_sha TEXT NOT NULL,
        head_len INTEGER NOT NULL, head_sha TEXT NOT NULL,
        ino INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL
    )""",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY, run TEXT NOT NULL UNIQUE,
        first_off INTEGER NOT NULL, last_off INTEGER NOT NULL,
        first_ts TEXT, last_ts TEXT, odd INTEGER NOT NULL DEFAULT 0,
        ord INTEGER, env TEXT, runbook TEXT, summary TEXT
    )""",
    "CREATE INDEX runs_by_ord ON runs (ord) WHERE ord IS NOT NULL",
    "CREATE INDEX runs_by_env ON runs (env, ord) WHERE ord IS NOT NULL",
    "CREATE INDEX runs_by_end ON runs (last_ts)",
    "CREATE TABLE lines (off INTEGER PRIMARY KEY, len INTEGER NOT NULL, run INTEGER NOT NULL, marks INTEGER NOT NULL)",
    "CREATE INDEX lines_by_run ON lines (run, off)",
    "CREATE TABLE marked (mark INTEGER NOT NULL, off INTEGER NOT NULL, PRIMARY KEY (mark, off)) WITHOUT ROWID",
)
_NAMES = ("meta", "runs", "lines", "marked")
_COMPANIONS = ("-wal", "-shm", "-journal")


def index_path(log_path: Path) -> Path:
    """``<state_dir>/index.sqlite``: beside the log it indexes."""
    return log_path.parent / INDEX_NAME


def connect(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are begun explicitly), the file created 0600.

    ``timeout``: how long a write waits for another process's write to end.
    """
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))  # SQLite copies this mode to -wal
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")  # derived data: an OS crash that damages it means a rebuild
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def current(conn: sqlite3.Connection) -> bool:
    """The file holds this version's tables (else it is new, or from another opsctl: rebuilt)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    return bool(version == SCHEMA_VERSION)


def recreate(conn: sqlite3.Connection) -> None:
    """Empty tables of this version, inside the caller's write transaction."""
    for name in _NAMES:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
    for statement in _TABLES:
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def corrupt(exc: sqlite3.Error) -> bool:
    """The error says the file is damaged or no database at all (so only removing it helps)."""
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def remove(path: Path) -> None:
    """Delete the index and its companion files (a damaged index is rebuilt from the log)."""
    for name in (path, *(path.with_name(path.name + suffix) for suffix in _COMPANIONS)):
        with contextlib.suppress(FileNotFoundError):
            name.unlink()
