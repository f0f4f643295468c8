"""Adding event lines to the index: their rows, their runs' places and times, their runs' summaries.

Runs are folded with :func:`opsctl.audit.query.summary.fold`, the function
``load_runs`` folds with when it reads the log itself, so a run reads the same
from either. A summary is stored as the JSON list of its fields; one that
JSON cannot carry back unchanged (a dict with non-text keys, which only a
hand-made line can give) makes the whole index decline (:class:`Unindexable`).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opsctl.audit.index.scan import Line
from opsctl.audit.index.schema import MARKS
from opsctl.audit.query.summary import RunSummary, first_summary, fold

_MARK_BITS = (1 << len(MARKS)) - 1  # RUN_BIT is on nearly every line: it is read from ``lines``, not ``marked``
_FIELDS = tuple(f.name for f in dataclasses.fields(RunSummary))


class Unindexable(Exception):
    """The log holds something the index cannot represent exactly: readers read the log itself."""


@dataclass
class _Run:
    id: int
    first_off: int
    last_off: int
    first_ts: str | None
    last_ts: str | None
    odd: bool
    ord: int | None
    summary: RunSummary | None
    new: bool = False
    changed: bool = False


def dump(summary: RunSummary) -> str:
    if any(not isinstance(key, str) for key in summary.params):
        raise Unindexable(f"run {summary.run}: params with keys JSON cannot carry")
    return json.dumps([getattr(summary, name) for name in _FIELDS], ensure_ascii=False, separators=(",", ":"))


def load(text: str) -> RunSummary:
    return RunSummary(*json.loads(text))


class Writer:
    """Adds lines (in log order) inside the caller's write transaction; :meth:`flush` writes the runs."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._runs: dict[str, _Run] = {}
        self._next_id = (conn.execute("SELECT max(id) FROM runs").fetchone()[0] or 0) + 1

    def add(self, lines: Iterable[Line]) -> None:
        rows: list[tuple[int, int, int, int]] = []
        marked: list[tuple[int, int]] = []
        for line in lines:
            run = self._run(line)
            rows.append((line.off, line.length, run.id, line.marks))
            if line.marks & _MARK_BITS:
                marked.extend((bit, line.off) for bit in range(len(MARKS)) if line.marks & (1 << bit))
            if line.event is not None:
                if run.summary is None:
                    run.summary, run.ord = first_summary(line.event), line.off
                fold(run.summary, line.event)
                run.changed = True
        self._conn.executemany("INSERT INTO lines VALUES (?, ?, ?, ?)", rows)
        self._conn.executemany("INSERT INTO marked VALUES (?, ?)", marked)

    def flush(self) -> None:
        """Write every run touched since the last flush, and forget them (memory stays bounded)."""
        inserts, updates = [], []
        for key, run in self._runs.items():
            summary = run.summary
            row = (
                run.first_off,
                run.last_off,
                run.first_ts,
                run.last_ts,
                int(run.odd),
                run.ord,
                summary.env if summary else None,
                summary.runbook if summary else None,
                dump(summary) if summary is not None and (run.changed or run.new) else None,
            )
            if run.new:
                inserts.append((run.id, key, *row))
            else:
                updates.append((*row, run.id))
        self._conn.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", inserts)
        self._conn.executemany(
            "UPDATE runs SET first_off = ?, last_off = ?, first_ts = ?, last_ts = ?, odd = ?, ord = ?, env = ?,"
            " runbook = ?, summary = coalesce(?, summary) WHERE id = ?",
            updates,
        )
        self._runs.clear()

    def _run(self, line: Line) -> _Run:
        run = self._runs.get(line.run)
        if run is None:
            run = self._runs[line.run] = self._known(line.run) or self._fresh(line)
        # parse() gives a block's lines out of order (quick ones first): keep the outermost.
        run.first_off, run.last_off = min(run.first_off, line.off), max(run.last_off, line.off)
        if line.ts is None:
            run.odd = True
        else:
            run.first_ts = line.ts if run.first_ts is None else min(run.first_ts, line.ts)
            run.last_ts = line.ts if run.last_ts is None else max(run.last_ts, line.ts)
        return run

    def _known(self, key: str) -> _Run | None:
        row: Any = self._conn.execute(
            "SELECT id, first_off, last_off, first_ts, last_ts, odd, ord, summary FROM runs WHERE run = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        summary = load(row[7]) if row[7] is not None else None
        return _Run(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6], summary)

    def _fresh(self, line: Line) -> _Run:
        run = _Run(self._next_id, line.off, line.off, None, None, False, None, None, new=True)
        self._next_id += 1
        return run
