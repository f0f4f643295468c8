"""Reading log bytes into what the index records: each event line's place, run, marks and time.

A line is an event exactly when :mod:`opsctl.audit.query.read` would decode
one from it (a JSON object; blocks are parsed in one ``json.loads`` call, line
by line only when one is bad), so the index and a plain read of the log never
disagree about which lines count. Marks are found in the raw bytes, as
``read_events(log, marks)`` finds them.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from opsctl.audit.index.schema import MARKS, RUN_BIT
from opsctl.audit.line import decode_line

BLOCK = 4 << 20  # bytes read at a time: bounded memory on a log of any size
_PREFIX = re.compile(rb'\{"seq":\d+,"ts":"([^"\\]{24})","run":"([A-Za-z0-9_.:@+-]*)",')
_RUN_LEVEL = 1  # bit of MARKS[0], '"step":"run"': only such lines are run-level events (as load_runs reads them)
TS_PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")  # format_ts: such times sort as text


@dataclass(frozen=True)
class Line:
    """One event line: ``off``/``length`` (without its newline) in the log."""

    off: int
    length: int
    run: str  # ``str(event.get("run"))``, the key runs are summarised under
    marks: int
    ts: str | None  # None: no time in opsctl's format (the run cannot be placed in time)
    event: dict[str, Any] | None  # kept only for run-level events (``step: "run"``), which runs are folded from


def decode_batch(lines: list[bytes]) -> list[Any]:
    """Each line's JSON value (None when it holds none), the block parsed in one call when it can be."""
    if not lines:
        return []
    try:
        batch = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        batch = None
    if isinstance(batch, list) and len(batch) == len(lines):  # else a damaged line held more than one value
        return batch
    return [decode_line(line) for line in lines]


def parse(data: bytes, base: int) -> Iterator[Line]:
    """The event lines of ``data`` (whole lines, each ending in a newline) found at offset ``base``.

    Run-level lines are decoded (runs are folded from them). Others only need
    their run and time: when a line starts as opsctl writes one
    (``{"seq":N,"ts":"...","run":"...",``) and names no other run or time,
    those are read from that prefix; a line that is no JSON after all is
    dropped again when read (``read_events`` would not count it either).
    """
    raw = data[:-1].split(b"\n") if data else []
    starts = list(accumulate((len(line) + 1 for line in raw), initial=0))
    marks = _marks(data, starts)
    slow: list[int] = []
    for number, line in enumerate(raw):
        bits = marks.get(number, 0)
        quick = None if bits & _RUN_LEVEL else _PREFIX.match(line)
        if quick is None or line.count(b'"run":') != 1 or line.count(b'"ts":') != 1 or not line.endswith(b"}"):
            slow.append(number)
            continue
        ts = quick.group(1).decode()
        yield Line(base + starts[number], len(line), quick.group(2).decode(), bits | RUN_BIT,
                   ts if TS_PATTERN.fullmatch(ts) else None, None)  # fmt: skip
    values = decode_batch([raw[number] for number in slow])
    for number, value in zip(slow, values, strict=True):
        if isinstance(value, dict):
            yield _decoded(base + starts[number], raw[number], value, marks.get(number, 0))


def _decoded(off: int, line: bytes, event: dict[str, Any], bits: int) -> Line:
    run, ts = event.get("run"), event.get("ts")
    if isinstance(run, str) and _run_mark(run) in line:
        bits |= RUN_BIT
    return Line(
        off,
        len(line),
        str(run),
        bits,
        ts if isinstance(ts, str) and TS_PATTERN.fullmatch(ts) else None,
        event if bits & _RUN_LEVEL and event.get("step") == "run" else None,
    )


def _marks(data: bytes, starts: list[int]) -> dict[int, int]:
    """{line number: mark bits} for the lines of ``data`` holding a mark (found per block, not per line)."""
    found: dict[int, int] = {}
    for bit, mark in enumerate(MARKS):
        at = data.find(mark)
        while at != -1:
            number = bisect_right(starts, at) - 1
            found[number] = found.get(number, 0) | (1 << bit)
            at = data.find(mark, starts[number + 1])  # the rest of this line cannot add another
    return found


def _run_mark(run: str) -> bytes:
    # As opsctl.audit.query.read.field_mark("run", run) spells it (that module sits above this one).
    return f'"run":{json.dumps(run, ensure_ascii=False)}'.encode()
