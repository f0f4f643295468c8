"""The one reader of the audit log: complete lines decoded into events, oldest first.

Reads the index (:mod:`opsctl.audit.index`) asks for go through it: a run's
events, or the lines holding marks it tracks, are read at the byte offsets it
holds, so their cost follows what is read, not the log's length. Everything
else, and everything whenever the index cannot answer, reads the log as below.

``read_events(log)`` reads every event; ``read_events(log, marks)`` only the
lines holding one of ``marks`` (bytes such as ``b'"step":"run"'``), which is
what keeps ``report``, ``status`` and ``releases`` fast on a million events:
the file is memory-mapped (no copies of it), ``bytes.find`` jumps between
occurrences so that Python-level work is per matching line rather than per
line of the log, and each block's lines are parsed in one call. A torn last
line (no newline yet), a damaged line and JSON that is not an object are no
events; ``opsctl audit verify`` is the judge of such lines.
"""

from __future__ import annotations

import gc
import json
import mmap
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.audit.index.scan import decode_batch
from opsctl.audit.log import AuditLog

if TYPE_CHECKING:
    from opsctl.audit.index import Index

LogSource = Path | AuditLog  # what the read functions take: a log's path, or the log
_BLOCK = 4 << 20


def log_path(source: LogSource) -> Path:
    return source.path if isinstance(source, AuditLog) else source


def read_events(source: LogSource, marks: Iterable[bytes] = ()) -> Iterator[dict[str, Any]]:
    """The log's events, oldest first; with ``marks``, only those whose raw line contains one of them."""
    wanted = tuple(marks)
    path = log_path(source)
    if not path.exists():
        return
    if wanted:
        from opsctl.audit.index import ask

        found = ask(path, lambda index: _marked(index, wanted))
        if found is not None and found[0] is not None:
            yield from found[0]
            return
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return  # mmap refuses empty files
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            end = data.rfind(b"\n") + 1  # a torn last line (no newline yet) is not an event
            pos = 0
            while pos < end:
                # Blocks end at a line's end, so no line is split between two of them.
                stop = data.find(b"\n", min(pos + _BLOCK, end) - 1) + 1
                lines = _lines_with(data, pos, stop, wanted) if wanted else data[pos : stop - 1].split(b"\n")
                yield from _decode(lines)
                pos = stop


def run_events(source: LogSource, run_id: str) -> list[dict[str, Any]]:
    """Every event of one run, oldest first."""
    from opsctl.audit.index import ask

    found = ask(log_path(source), lambda index: list(index.events(index.run_lines(run_id))))
    events = found[0] if found is not None else read_events(source, (field_mark("run", run_id),))
    return [e for e in events if e.get("run") == run_id]


def _marked(index: Index, marks: tuple[bytes, ...]) -> list[dict[str, Any]] | None:
    spans = index.marked(marks)
    return None if spans is None else list(index.events(spans))


def field_mark(key: str, value: str) -> bytes:
    """``"key":"value"`` exactly as the log writes it (compact, UTF-8): a mark for :func:`read_events`."""
    return f"{json.dumps(key)}:{json.dumps(value, ensure_ascii=False)}".encode()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while parsing a large log.

    Parsed events are acyclic dicts and lists, so the collector finds nothing
    to free; but each of its passes walks every object still alive, which on
    a million-event log made reading cost grow faster than the log. Reference
    counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _decode(lines: list[bytes]) -> list[dict[str, Any]]:
    """A block's events: its lines parsed in one call (a JSON array), line by line only when one is bad."""
    return [event for event in decode_batch(lines) if isinstance(event, dict)]


def _lines_with(data: mmap.mmap, pos: int, end: int, marks: tuple[bytes, ...]) -> list[bytes]:
    """The lines of ``data[pos:end]`` (whole lines) that contain a mark, each once, in file order."""
    starts: dict[int, int] = {}
    for mark in marks:
        at = data.find(mark, pos, end)
        while at != -1:
            start = data.rfind(b"\n", pos, at) + 1 or pos
            stop = data.find(b"\n", at, end) + 1
            starts[start] = stop
            at = data.find(mark, stop, end)  # the rest of this line cannot add another match
    order = sorted(starts) if len(marks) > 1 else starts  # one mark: found in file order already
    return [data[start : starts[start]] for start in order]
