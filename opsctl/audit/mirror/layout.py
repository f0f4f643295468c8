"""Object keys in the bucket, and the local log read as raw, hash-carrying lines.

Lines travel to S3 byte for byte: each still proves its own content (its
``hash`` covers it) and its place (``prev`` and ``seq``), so the central copy
can be checked without trusting whoever uploaded it.

Run objects are partitioned by the UTC day their run started, taken from the
run id (``r20261127-100000-ab12cd`` -> ``runs/2026/11/27/``), so that a
question about the last 30 days lists a month or two of keys, not the whole
history. Objects written before the partitions (``runs/<run>.<log>.jsonl``)
are still read, and a run id without a date stays in that flat layout.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote, unquote

from opsctl.audit.line import GENESIS, ChainLine, chain_line, decode_line  # the line format has one owner
from opsctl.audit.logfile import log_error

RUNS = "runs/"
CHECKPOINTS = "checkpoints/"
LOG_ID_LEN = 16
_HEX = frozenset("0123456789abcdef")


def normal_prefix(prefix: str) -> str:
    """``opsctl`` and ``opsctl/`` name the same folder; an empty prefix is the bucket's root."""
    cleaned = prefix.strip("/")
    return f"{cleaned}/" if cleaned else ""


_RUN_DAY = re.compile(r"^r(\d{4})(\d{2})(\d{2})-")
_PARTITION = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/")


def run_day(run: str) -> date | None:
    """The UTC day a run started, from its id (``r20261127-...``); None for an id without one."""
    found = _RUN_DAY.match(run)
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def day_folder(prefix: str, day: date) -> str:
    """``<prefix>runs/YYYY/MM/DD/``: the partition of the runs started on ``day``."""
    return f"{normal_prefix(prefix)}{RUNS}{day:%Y/%m/%d}/"


def month_folder(prefix: str, year: int, month: int) -> str:
    """``<prefix>runs/YYYY/MM/``: the partitions of one month (one listing covers them)."""
    return f"{normal_prefix(prefix)}{RUNS}{year:04d}/{month:02d}/"


def run_key(prefix: str, run: str, log: str) -> str:
    """Where a run object goes: its day's partition, or the flat folder for a run id without a date."""
    day = run_day(run)
    folder = day_folder(prefix, day) if day is not None else normal_prefix(prefix) + RUNS
    return f"{folder}{quote(run, safe='-_')}.{log}.jsonl"


def flat_run_key(prefix: str, run: str, log: str) -> str:
    """Where a run object went before the partitions (still read)."""
    return f"{normal_prefix(prefix)}{RUNS}{quote(run, safe='-_')}.{log}.jsonl"


def parse_run_key(prefix: str, key: str) -> tuple[str, str] | None:
    """(run, log) of a run object's key (partitioned or flat), or None for anything else."""
    start = normal_prefix(prefix) + RUNS
    if not key.startswith(start) or not key.endswith(".jsonl"):
        return None
    name = key[len(start) : -len(".jsonl")]
    partition = _PARTITION.match(name)
    if partition is not None:
        name = name[partition.end() :]
    if "/" in name:
        return None
    run, _, log = name.rpartition(".")
    return (unquote(run), log) if run and is_log_id(log) else None


def is_log_id(text: str) -> bool:
    return len(text) == LOG_ID_LEN and set(text) <= _HEX


def checkpoint_key(prefix: str, log: str, seq: int) -> str:
    return f"{normal_prefix(prefix)}{CHECKPOINTS}{log}/{seq:012d}.json"


def parse_checkpoint_key(prefix: str, key: str) -> tuple[str, int] | None:
    """(log, seq) of a checkpoint's key, or None."""
    start = normal_prefix(prefix) + CHECKPOINTS
    log, _, name = key[len(start) :].partition("/")
    if not key.startswith(start) or not name.endswith(".json") or not is_log_id(log):
        return None
    try:
        return log, int(name[: -len(".json")])
    except ValueError:
        return None


def log_id(first_hash: str) -> str:
    return first_hash[:LOG_ID_LEN]


@dataclass
class Snapshot:
    """What the local log holds right now: its id, head, and the raw lines of some runs."""

    log: str | None = None
    last_seq: int = 0
    head: str = GENESIS
    lines: dict[str, list[bytes]] = field(default_factory=dict)  # run id -> complete lines (with newline)
    hashes: dict[int, str] = field(default_factory=dict)  # seq -> hash, when asked for


def whole_lines(path: Path) -> Iterator[tuple[bytes, ChainLine]]:
    """Each complete line of the log at ``path`` (with its newline) and its chain fields, read under a
    shared lock (writers hold it exclusively, so no half line is seen); a torn last line is no event yet.

    A missing log has no lines; any other OS error names the path (AuditLogError, exit 2).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise log_error(path, exc) from None
    with os.fdopen(fd, "rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            fields = chain_line(raw[:-1])
            if fields is not None:
                yield raw, fields


def snapshot(path: Path, runs: frozenset[str] = frozenset(), *, hashes: bool = False) -> Snapshot:
    """Read ``path`` once under a shared lock (writers hold it exclusively, so no half line is seen)."""
    snap = Snapshot(lines={run: [] for run in runs})
    needles = {run: f'"run":{json.dumps(run, ensure_ascii=False)}'.encode() for run in runs}
    for raw, fields in whole_lines(path):
        if snap.log is None:
            snap.log = log_id(fields.hash)
        snap.last_seq, snap.head = fields.seq, fields.hash
        if hashes:
            snap.hashes[fields.seq] = fields.hash
        for run, needle in needles.items():
            if needle in raw and _run_of(raw) == run:
                snap.lines[run].append(raw)
    return snap


def _run_of(raw: bytes) -> str | None:
    event = decode_line(raw)
    value = event.get("run") if event is not None else None
    return str(value) if value is not None else None
