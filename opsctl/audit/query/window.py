"""What a computation over a time window needs from the log: the events of the runs still going in it.

``report --since 30d`` on two years of history must not read two years: its
figures are about runs that ended in the window (and what followed them), so
older runs, which ended before any of those started, change nothing. The
audit index finds where in the log the first such run begins; every line from
there on that holds one of the marks is read, and nothing before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from opsctl.audit.line import format_ts
from opsctl.audit.query.read import LogSource, log_path, read_events

# Runs are cut by event times; a margin keeps runs that overlap the window's start by a day in, whatever
# the precision of the times compared.
MARGIN = timedelta(days=1)


def window_events(source: LogSource, marks: tuple[bytes, ...], start: datetime) -> Iterator[dict[str, Any]]:
    """Events holding one of ``marks``, oldest first: every such event of every run active at or after ``start``.

    Whole runs only: a run is in with all its events or not at all, and every
    run left out ended before each run kept in began. When the index cannot
    tell (times not written by opsctl, a clock that went back, no index),
    the events of the whole log are given, which any such computation
    handles the same way.
    """
    from opsctl.audit.index import ask

    cut = format_ts(start - MARGIN)

    def question(index: Any) -> list[dict[str, Any]] | None:
        offset = index.window_start(cut)
        spans = None if offset is None else index.marked_since(marks, offset)
        return None if spans is None else list(index.events(spans))

    found = ask(log_path(source), question)
    if found is not None and found[0] is not None:
        return iter(found[0])
    return read_events(source, marks)
