"""Questions the index answers, inside one read snapshot that was checked against the log.

Every answer is either built from rows the index folded from the log, or
read from the log itself at the byte offsets the index holds (``pread`` of
just those lines), so a command touches only the events it shows.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Collection, Iterator
from typing import Any

from opsctl.audit.index.scan import decode_batch
from opsctl.audit.index.schema import MARKS, RUN_BIT
from opsctl.audit.index.writer import load
from opsctl.audit.query.summary import RunSummary

Span = tuple[int, int]  # (offset, length without the newline) of one line
_GAP = 4096  # lines closer than this are read with one pread


class Index:
    """A checked snapshot of the index over the open log ``fd`` (both owned by :mod:`opsctl.audit.index`)."""

    def __init__(self, conn: sqlite3.Connection, fd: int, covered: int) -> None:
        self._conn = conn
        self._fd = fd
        self.covered = covered  # the bytes of the log this snapshot describes

    def runs(
        self, env: str | None = None, *, last: int | None = None, runbooks: Collection[str] | None = None
    ) -> list[RunSummary]:
        """As ``load_runs``: the runs (of ``env``, of ``runbooks``), oldest first; ``last``: the newest that many."""
        where, args = ["ord IS NOT NULL"], []
        if env is not None:
            where.append("env = ?")
            args.append(env)
        if runbooks is not None:
            where.append(f"runbook IN ({', '.join('?' * len(runbooks))})")
            args.extend(runbooks)
        sql = f"SELECT summary FROM runs WHERE {' AND '.join(where)} ORDER BY ord DESC"  # noqa: S608 - placeholders only
        if last is not None:
            sql += " LIMIT ?"
            args.append(str(last))
        found = [load(text) for (text,) in self._conn.execute(sql, args)]
        found.reverse()
        return found

    def runs_before(self, env: str, ord_: int, ended_after: str) -> list[RunSummary]:
        """Runs of ``env`` that started before the run at ``ord_`` but have an event after ``ended_after``."""
        rows = self._conn.execute(
            "SELECT summary FROM runs WHERE env = ? AND ord < ? AND (last_ts > ? OR odd) ORDER BY ord",
            (env, ord_, ended_after),
        )
        return [load(text) for (text,) in rows]

    def run_order(self, run: str) -> int | None:
        row = self._conn.execute("SELECT ord FROM runs WHERE run = ?", (run,)).fetchone()
        return None if row is None else int(row[0])

    def marked(self, marks: Collection[bytes]) -> list[Span] | None:
        """The lines holding any of ``marks``, in log order; None when one of them is not indexed."""
        if not marks or any(mark not in MARKS for mark in marks):
            return None
        bits = sorted({MARKS.index(mark) for mark in marks})
        sql = " UNION ".join("SELECT off FROM marked WHERE mark = ?" for _ in bits)
        return self._spans(f"SELECT off, len FROM lines WHERE off IN ({sql}) ORDER BY off", bits)  # noqa: S608 - placeholders only

    def marked_since(self, marks: Collection[bytes], offset: int) -> list[Span] | None:
        """As :meth:`marked`, only lines at or after ``offset``."""
        found = self.marked(marks)
        return None if found is None else [span for span in found if span[0] >= offset]

    def run_lines(self, run: str) -> list[Span]:
        """The lines of one run that spell its id as the log writes it (what ``run_events`` reads)."""
        return self._spans(
            "SELECT off, len FROM lines WHERE run = (SELECT id FROM runs WHERE run = ?) AND marks & ? ORDER BY off",
            (run, RUN_BIT),
        )

    def window_start(self, cut: str) -> int | None:
        """The offset from which the log holds exactly the runs active at or after ``cut`` (an event time).

        The window is widened until no run it leaves out ended after one it
        keeps started; None when the log cannot be cut that way (times not
        written by opsctl, a clock that went back): read everything instead.
        """
        if self._conn.execute("SELECT 1 FROM runs WHERE odd LIMIT 1").fetchone():
            return None
        start = cut
        while True:
            earliest = self._conn.execute("SELECT min(first_ts) FROM runs WHERE last_ts >= ?", (start,)).fetchone()[0]
            if earliest is None:
                return self.covered  # nothing that recent: no lines
            if earliest >= start:
                break
            start = earliest
        kept = self._conn.execute("SELECT min(first_off) FROM runs WHERE last_ts >= ?", (start,)).fetchone()[0]
        left = self._conn.execute("SELECT max(last_off) FROM runs WHERE last_ts < ?", (start,)).fetchone()[0]
        if left is not None and left > kept:
            return None
        return int(kept)

    def events(self, spans: list[Span]) -> Iterator[dict[str, Any]]:
        """The events on those lines, in the order given (lines that hold no object are skipped)."""
        for chunk in _chunks(spans, 4096):
            for value in decode_batch(list(self._read(chunk))):
                if isinstance(value, dict):
                    yield value

    def _read(self, spans: list[Span]) -> Iterator[bytes]:
        i = 0
        while i < len(spans):
            j = i
            while j + 1 < len(spans) and spans[j + 1][0] - (spans[j][0] + spans[j][1]) <= _GAP:
                j += 1
            start, end = spans[i][0], spans[j][0] + spans[j][1]
            data = os.pread(self._fd, end - start, start)
            if len(data) != end - start:  # the log shrank under us: the caller reads it afresh
                raise OSError(f"audit log shorter than its index ({start + len(data)} < {end} bytes)")
            for off, length in spans[i : j + 1]:
                yield data[off - start : off - start + length]
            i = j + 1

    def _spans(self, sql: str, args: Any) -> list[Span]:
        return [(int(off), int(length)) for off, length in self._conn.execute(sql, args)]


def _chunks(items: list[Span], size: int) -> Iterator[list[Span]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
