"""Keeping the index true to the log: check it, catch it up, or rebuild it.

The log is the only source of truth. Before answering, the index must
still describe the log's first ``covered`` bytes: the first line and the last
covered line must be where the index says, with the SHA-256 it recorded, and
the file must be the same one (inode) that only grew since (size and mtime
as recorded, or larger). Then the lines after ``covered`` are added (catch
up); anything else (the log truncated, rewritten, edited in place, replaced,
the index from another log, an older schema, a damaged file) rebuilds the
index from the first byte of the log. An in-place edit that keeps size and
mtime is what ``opsctl audit verify`` is for (it reads every line).

Writers serialise on SQLite's write lock (``BEGIN IMMEDIATE``) and re-check
inside it, so two processes catching up the same lines add them once; a
process killed mid-update leaves its transaction uncommitted, which SQLite
rolls back on the next open.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass

from opsctl.audit.index.scan import BLOCK, parse
from opsctl.audit.index.schema import current, recreate
from opsctl.audit.index.writer import Writer


@dataclass(frozen=True)
class Meta:
    covered: int
    tail_off: int
    tail_sha: str
    head_len: int
    head_sha: str
    ino: int
    size: int
    mtime_ns: int


def read_meta(conn: sqlite3.Connection) -> Meta | None:
    """What the index covers; None for a new or other-version index."""
    if not current(conn):
        return None
    row = conn.execute(
        "SELECT covered, tail_off, tail_sha, head_len, head_sha, ino, size, mtime_ns FROM meta WHERE id = 1"
    ).fetchone()
    return Meta(*row) if row else None


def verdict(meta: Meta | None, fd: int, st: os.stat_result) -> str:
    """``fresh`` (answer as is), ``behind`` (add the lines after ``covered``) or ``stale`` (rebuild)."""
    if meta is None or meta.ino != st.st_ino or st.st_size < meta.covered or st.st_size < meta.size:
        return "stale"
    if meta.covered and not (_sha_at(fd, 0, meta.head_len) == meta.head_sha and _tail_ok(fd, meta)):
        return "stale"
    if st.st_size == meta.size:
        # Same size, new mtime: rewritten in place (an append always grows the file).
        return "fresh" if st.st_mtime_ns == meta.mtime_ns else "stale"
    return "behind"


def catch_up(conn: sqlite3.Connection, fd: int, st: os.stat_result, *, rebuild: bool) -> None:
    """Inside a write transaction: add every complete line after ``covered`` (from 0 when rebuilding)."""
    meta = None if rebuild else read_meta(conn)
    if meta is None:
        recreate(conn)
    start = meta.covered if meta is not None else 0
    tail_off, head_len = (meta.tail_off, meta.head_len) if meta is not None else (0, 0)
    writer = Writer(conn)
    pos = start
    while pos < st.st_size:
        data = os.pread(fd, min(BLOCK, st.st_size - pos), pos)
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) < st.st_size - pos:  # one line longer than a block: read until its end
                data = os.pread(fd, st.st_size - pos, pos)
                cut = data.rfind(b"\n") + 1
            if cut == 0:
                break  # only a torn last line is left: no event yet
        block = data[:cut]
        writer.add(parse(block, pos))
        writer.flush()
        last = block.rfind(b"\n", 0, cut - 1) + 1
        tail_off = pos + last
        if head_len == 0:
            head_len = block.find(b"\n") + 1
        pos += cut
    _write_meta(conn, fd, Meta(pos, tail_off, "", head_len, "", st.st_ino, st.st_size, st.st_mtime_ns))


def _write_meta(conn: sqlite3.Connection, fd: int, meta: Meta) -> None:
    tail = _sha_at(fd, meta.tail_off, meta.covered - meta.tail_off) if meta.covered else ""
    head = _sha_at(fd, 0, meta.head_len) if meta.covered else ""
    conn.execute(
        "INSERT OR REPLACE INTO meta VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
        (meta.covered, meta.tail_off, tail, meta.head_len, head, meta.ino, meta.size, meta.mtime_ns),
    )


def _sha_at(fd: int, off: int, length: int) -> str:
    data = os.pread(fd, length, off)
    return hashlib.sha256(data).hexdigest() if len(data) == length else ""


def _tail_ok(fd: int, meta: Meta) -> bool:
    """The last covered line is still there: whole (a newline before and after it), with its recorded hash."""
    if meta.tail_off and os.pread(fd, 1, meta.tail_off - 1) != b"\n":
        return False
    length = meta.covered - meta.tail_off
    data = os.pread(fd, length, meta.tail_off)
    return data.endswith(b"\n") and hashlib.sha256(data).hexdigest() == meta.tail_sha
