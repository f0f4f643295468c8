"""Appending one event to the audit log: the locked write, torn-tail recovery, fsync, the index hook.

A writer takes an exclusive ``flock``, reads the tail to find the hash and
seq to chain to, and writes one or more complete lines with one ``os.write``
on an ``O_APPEND`` descriptor, then ``fsync``. A crash can leave at most a
torn last line (no newline): when only the newline is missing the event is
finished; otherwise the next writer terminates it and first appends an
``audit.recover`` event naming it (line number, length, SHA-256), which
verification (:mod:`opsctl.audit.chain`) accepts in its place.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from opsctl.audit.line import (
    GENESIS,
    HMAC_FIELD,
    RECOVER_STEP,
    encode_event,
    format_ts,
    keyed_line,
    seq_of,
    split_line,
    whole_event,
)
from opsctl.audit.logfile import log_error, open_log, write_all
from opsctl.files.statedir import ensure_state_dir
from opsctl.values.redact import Redactor

_TAIL_CHUNK = 64 * 1024


@dataclass
class _Tail:
    last_hash: str = GENESIS
    last_seq: int = 0
    torn: bytes | None = None


def append_event(
    path: Path,
    fields: dict[str, Any],
    *,
    clock: Callable[[], datetime],
    redactor: Redactor,
    secret: bytes | None,
) -> dict[str, Any]:
    """Append one event to the log at ``path``; returns it as written (seq, ts, prev, hash; ``hmac`` with a key).

    ``fields`` are redacted; ``secret`` (the audit HMAC key, or None) keys the
    line. AuditLogError naming the path when the log cannot be written.
    """
    ensure_state_dir(path.parent)
    fd = open_log(path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        tail = _read_tail(fd)
        chunk = b""
        prev, seq = tail.last_hash, tail.last_seq
        whole = whole_event(tail.torn, prev) if tail.torn is not None else None
        if whole is not None:
            # The crash cut only the newline: the event is complete and chained; finish it.
            chunk, prev, seq = b"\n", whole[0], whole[1] or seq + 1
        elif tail.torn is not None:
            recovery = _recovery_fields(fd, tail, fields, clock)
            seq += 1
            line, prev = encode_event({"seq": seq, **recovery}, prev, secret)
            chunk = b"\n" + line
        seq += 1
        event = {"seq": seq, "ts": format_ts(clock()), **redactor.value(fields)}
        event.pop(HMAC_FIELD, None)  # reserved, like prev and hash: only the key makes it
        line, digest = encode_event(event, prev, secret)
        # One write of whole lines (looped only if the kernel takes part of it); a write cut
        # short by a full disk leaves a torn tail that the next writer recovers.
        write_all(fd, chunk + line)
        os.fsync(fd)
    except OSError as exc:
        raise log_error(path, exc) from None
    finally:
        os.close(fd)  # closing drops the flock
    from opsctl.audit.index import after_append

    after_append(path)  # the derived index (history commands); best effort, it never fails the append
    keyed = keyed_line(line[:-1]) if secret is not None else None
    return {**event, **({HMAC_FIELD: keyed[0]} if keyed else {}), "prev": prev, "hash": digest}


def _read_tail(fd: int) -> _Tail:
    size = os.fstat(fd).st_size
    if size == 0:
        return _Tail()
    start = max(0, size - _TAIL_CHUNK)
    data = os.pread(fd, size - start, start)
    while start > 0 and data.count(b"\n") < 2:  # a line longer than the chunk: read more
        start = max(0, start - _TAIL_CHUNK)
        data = os.pread(fd, size - start, start)
    torn: bytes | None = None
    if not data.endswith(b"\n"):
        cut = data.rfind(b"\n")
        torn, data = data[cut + 1 :], data[: cut + 1]
    lines = data.splitlines()
    last = lines[-1] if lines and (start == 0 or len(lines) > 1) else b""
    parts = split_line(last) if last else None
    if parts is None:
        return _Tail(torn=torn)
    return _Tail(parts[1], seq_of(last) or 0, torn)


def _recovery_fields(fd: int, tail: _Tail, fields: dict[str, Any], clock: Callable[[], datetime]) -> dict[str, Any]:
    torn = tail.torn or b""
    with open(os.dup(fd), "rb") as whole:
        complete = sum(chunk.count(b"\n") for chunk in iter(lambda: whole.read(1 << 20), b""))
    return {
        "ts": format_ts(clock()),
        "run": fields.get("run", "-"),
        "runbook": fields.get("runbook", "-"),
        "env": fields.get("env", "-"),
        "actor": fields.get("actor", "-"),
        "step": RECOVER_STEP,
        "status": "recovered",
        "summary": "terminated a torn last line left by a crash",
        "torn_line": complete + 1,
        "torn_bytes": len(torn),
        "torn_sha256": hashlib.sha256(torn).hexdigest(),
    }
