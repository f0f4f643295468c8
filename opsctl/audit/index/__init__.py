"""The audit index: a derived SQLite file beside the log (``<state_dir>/index.sqlite``) for history at any size.

The log stays the only source of truth (DESIGN section 5). The index holds
what reading the whole log would tell (one row per run with its folded
summary, the byte offset of every event line, which lines hold the marks
readers filter on) and is checked against the log before every answer
(:mod:`~opsctl.audit.index.sync`): caught up when the log grew, rebuilt
from scratch when it is missing, damaged, of an older schema, or no longer
describes the log. Whenever it cannot answer (no write access, another
process holding it for long, anything unexpected), :func:`ask` returns None
and the caller reads the log itself, with the same result.

- :func:`ask`: a question answered from a checked snapshot (or None);
- :func:`after_append`: what :class:`~opsctl.audit.log.AuditLog` calls after
  a durable append; it never fails the append;
- :func:`reindex`: rebuild from the first byte (``opsctl audit reindex``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from opsctl.audit.index.reads import Index, Span
from opsctl.audit.index.schema import INDEX_NAME, MARKS, connect, corrupt, index_path, remove
from opsctl.audit.index.sync import catch_up, read_meta, verdict
from opsctl.audit.index.writer import Unindexable
from opsctl.audit.logfile import open_log
from opsctl.errors import BadInput, Unavailable
from opsctl.files.oserrors import describe_os_error
from opsctl.files.paths import display_path

__all__ = ["INDEX_NAME", "MARKS", "Index", "Reindexed", "Span", "after_append", "ask", "reindex"]

T = TypeVar("T")
READ_WAIT = 2.0  # a reader waits this long for another process's update, then reads the log itself
APPEND_WAIT = 0.05  # an append never waits long: the next reader catches up what it skipped
APPEND_CATCH_UP = 1 << 20  # bytes an append adds to the index at most (what a few runs write)
_ATTEMPTS = 3
_STILL = "commands still read the audit log itself"
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)  # another process holds the index: not its fault
_lock = threading.RLock()  # one connection per index file per process, used by one thread at a time
_conns: dict[Path, tuple[int, int, sqlite3.Connection]] = {}  # path -> (pid, inode, connection)


@dataclass(frozen=True)
class Reindexed:
    """What ``opsctl audit reindex`` did: the index's path, and the runs and event lines it now holds."""

    path: Path
    runs: int
    lines: int
    covered: int


def ask(log_path: Path, question: Callable[[Index], T], *, wait: float = READ_WAIT) -> tuple[T] | None:
    """``(answer,)`` from an index checked against the log (caught up or rebuilt first if needed).

    None when the index cannot answer: there is no log, the index cannot be
    written, another process holds it longer than ``wait`` seconds, or
    anything failed; the caller then reads the log itself.
    """
    if not log_path.is_file():
        return None
    for attempt in range(2):
        try:
            with _lock:
                return _ask(log_path, question, wait)
        except sqlite3.Error as exc:
            # Never an answer the log would not give: in any doubt, the caller reads the log. An index
            # whose tables are not what this opsctl made (one dropped, say) is removed and made again once.
            _forget(index_path(log_path))
            if attempt or getattr(exc, "sqlite_errorcode", None) in _BUSY or not _removable(log_path):
                return None
        except (OSError, Unindexable):
            _forget(index_path(log_path))
            return None
    return None


def _removable(log_path: Path) -> bool:
    try:
        remove(index_path(log_path))
    except OSError:
        return False
    return True


def after_append(log_path: Path) -> None:
    """Add the lines just appended to the index; every failure is swallowed (the append stands).

    Only a catch-up of what appends add: a missing or stale index, or one far
    behind, is left to the next reader, so an append never pays a rebuild
    (nor waits for another process's).
    """
    path = index_path(log_path)
    # Best effort by design: whatever goes wrong, the event is written and the next reader catches up.
    with contextlib.suppress(Exception), _lock:
        if not path.is_file():
            return
        conn = _connection(path, APPEND_WAIT)
        fd = os.open(log_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _update(conn, fd, rebuild=False, at_most=APPEND_CATCH_UP)
        finally:
            os.close(fd)


def reindex(log_path: Path) -> Reindexed:
    """Rebuild the index from the log's first byte (``opsctl audit reindex``); no log: no index.

    AuditLogError when the log cannot be read; Unavailable (exit 5) while
    another process holds the index; BadInput when the index cannot be written.
    """
    path = index_path(log_path)
    with _lock:
        _forget(path)
        try:
            remove(path)
            if not os.path.lexists(log_path):
                return Reindexed(path, 0, 0, 0)
            fd = open_log(log_path, os.O_RDONLY)
            try:
                conn = _connection(path, READ_WAIT)
                _update(conn, fd, rebuild=True)
                runs = conn.execute("SELECT count(*) FROM runs WHERE ord IS NOT NULL").fetchone()[0]
                lines = conn.execute("SELECT count(*) FROM lines").fetchone()[0]
                meta = read_meta(conn)
            finally:
                os.close(fd)
        except sqlite3.OperationalError as exc:
            _forget(path)
            if "locked" in str(exc):
                raise Unavailable(
                    f"audit index {display_path(path)}: another opsctl process is updating it; try again"
                ) from None
            raise BadInput(f"audit index {display_path(path)}: {exc}; {_STILL}") from None
        except OSError as exc:
            _forget(path)
            raise BadInput(f"audit index {describe_os_error(path, exc)}; {_STILL}") from None
        except (sqlite3.Error, Unindexable) as exc:
            _forget(path)
            raise BadInput(f"audit index {display_path(path)}: {exc}; {_STILL}") from None
    return Reindexed(path, int(runs), int(lines), meta.covered if meta else 0)


def _ask(log_path: Path, question: Callable[[Index], T], wait: float) -> tuple[T] | None:
    path = index_path(log_path)
    try:
        conn = _connection(path, wait)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a damaged file fails here
    except sqlite3.DatabaseError as exc:
        if not corrupt(exc):
            raise
        _forget(path)
        remove(path)  # damaged: only the log can tell what it held
        conn = _connection(path, wait)
    fd = os.open(log_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        for _ in range(_ATTEMPTS):
            conn.execute("BEGIN")
            try:
                meta = read_meta(conn)
                if verdict(meta, fd, os.fstat(fd)) == "fresh" and meta is not None:
                    return (question(Index(conn, fd, meta.covered)),)
            finally:
                conn.execute("COMMIT")
            _update(conn, fd, rebuild=False)
        return None  # the log kept changing under us
    finally:
        os.close(fd)


def _update(conn: sqlite3.Connection, fd: int, *, rebuild: bool, at_most: int | None = None) -> None:
    """Catch up (or rebuild) in one write transaction, re-checked once the write lock is held.

    ``at_most``: only catch up, and only that many bytes (else leave it all to a reader).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        st = os.fstat(fd)
        meta = read_meta(conn)
        state = "stale" if rebuild else verdict(meta, fd, st)
        if at_most is not None and (state == "stale" or meta is None or st.st_size - meta.covered > at_most):
            state = "fresh"
        if state != "fresh":
            catch_up(conn, fd, st, rebuild=state == "stale")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _connection(path: Path, wait: float) -> sqlite3.Connection:
    """This process's connection to the index at ``path`` (a new one if the file was replaced or removed)."""
    cached = _conns.get(path)
    try:
        inode = os.stat(path).st_ino
    except FileNotFoundError:
        inode = None
    if cached is not None and cached[0] == os.getpid() and cached[1] == inode:
        cached[2].execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        return cached[2]
    _forget(path)
    conn = connect(path, wait)
    _conns[path] = (os.getpid(), os.stat(path).st_ino, conn)
    return conn


def _forget(path: Path) -> None:
    cached = _conns.pop(path, None)
    if cached is not None and cached[0] == os.getpid():
        cached[2].close()
