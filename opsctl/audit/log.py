"""The audit log: hash-chained JSON Lines, append-only (DESIGN section 5).

Each line is one event. Its last two fields are fixed-width::

    {"seq":7,"ts":"...","run":"...",...,"prev":"<64 hex>","hash":"<64 hex>"}

``hash`` is the SHA-256 of the line's own bytes with the ``hash`` field cut
off (``{...,"prev":"..."}``), and ``prev`` is the hash of the line before
(64 zeros for the first). Verification therefore never re-serialises JSON:
it slices fixed offsets from the end of each line and hashes, which is what
lets ``opsctl audit verify`` check hundreds of thousands of events a second.

Writers append under an exclusive ``flock`` with one ``os.write`` of one
complete line on an ``O_APPEND`` descriptor, then ``fsync``. A crash can
leave at most a torn last line (no newline); the next writer terminates it
and records an ``audit.recover`` event naming it, which ``verify`` accepts.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opsctl.files.statedir import ensure_state_dir
from opsctl.values.redact import Redactor

GENESIS = "0" * 64
_HASH_MARK = b',"hash":"'
_PREV_MARK = b',"prev":"'
_SUFFIX = len(_HASH_MARK) + 64 + 2  # ,"hash":"<64>"}
_PREV_PART = len(_PREV_MARK) + 64 + 1  # ,"prev":"<64>"
_MIN_LINE = 1 + _PREV_PART + _SUFFIX
_TAIL_CHUNK = 64 * 1024
RECOVER_STEP = "audit.recover"


def _now() -> datetime:
    return datetime.now(UTC)


def format_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "value"):  # enums
        return value.value
    return str(value)


def encode_event(fields: dict[str, Any], prev: str) -> tuple[bytes, str]:
    """The line (with newline) for ``fields`` chained to ``prev``, and its hash."""
    body = json.dumps(fields, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode()
    pre = body[:-1] + _PREV_MARK + prev.encode() + b'"'
    digest = hashlib.sha256(pre + b"}").hexdigest()
    return pre + _HASH_MARK + digest.encode() + b'"}\n', digest


def _split_line(line: bytes) -> tuple[str, str] | None:
    """(prev, hash) of a well-formed line (without newline), or None if it has no chain fields."""
    if (
        len(line) < _MIN_LINE
        or not line.startswith(b"{")
        or not line.endswith(b'"}')
        or line[-_SUFFIX:-66] != _HASH_MARK
    ):
        return None
    pre = line[:-_SUFFIX]
    if pre[-_PREV_PART:-65] != _PREV_MARK:
        return None
    return pre[-65:-1].decode("ascii", "replace"), line[-66:-2].decode("ascii", "replace")


def _whole_event(torn: bytes, prev: str) -> tuple[str, int | None] | None:
    """(hash, seq) when ``torn`` is a complete event chained to ``prev`` that only lacks its newline."""
    parts = _split_line(torn)
    if parts is None or parts[0] != prev or not _line_ok(torn, parts[1]):
        return None
    return parts[1], _seq_of(torn)


def _line_ok(line: bytes, expected_hash: str) -> bool:
    return hashlib.sha256(line[:-_SUFFIX] + b"}").hexdigest() == expected_hash


def _seq_of(line: bytes) -> int | None:
    if not line.startswith(b'{"seq":'):
        return None
    end = line.find(b",", 7)
    try:
        return int(line[7:end])
    except ValueError:
        return None


@dataclass(frozen=True)
class ChainLine:
    """One event line's chain fields; ``intact`` says its content still matches its hash."""

    seq: int
    prev: str
    hash: str
    intact: bool


def chain_line(line: bytes) -> ChainLine | None:
    """The chain fields of one raw line (without newline), or None when it is not an event line.

    This is how other parts (the S3 mirror) read a line's place in the chain
    without parsing its JSON: the line format has one owner, this module.
    """
    parts = _split_line(line)
    seq = _seq_of(line)
    if parts is None or seq is None:
        return None
    return ChainLine(seq, parts[0], parts[1], _line_ok(line, parts[1]))


def decode_line(raw: bytes) -> dict[str, Any] | None:
    """The event one raw line holds (with or without its newline), or None when it holds none.

    Every reader of the log (:mod:`opsctl.audit.query`, the mirror) decodes
    lines here: a damaged line, JSON that is not an object, are no events.
    """
    try:
        event = json.loads(raw)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    bad_line: int | None = None
    reason: str | None = None
    truncated_tail: bool = False
    head: str = GENESIS
    last_seq: int = 0

    @property
    def message(self) -> str:
        if self.ok:
            return f"audit log intact: {self.events} events, head {self.head[:12]}"
        return f"line {self.bad_line}: {self.reason}"


@dataclass
class _Tail:
    last_hash: str = GENESIS
    last_seq: int = 0
    torn: bytes | None = None


@dataclass
class AuditLog:
    """The append-only, hash-chained event log at ``path`` (created 0600)."""

    path: Path
    redactor: Redactor = field(default_factory=Redactor)
    clock: Callable[[], datetime] = _now
    # Called with each event after it is durably written (the S3 mirror listens here).
    listeners: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)

    def append(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Append one event; returns it as written (with seq, ts, prev and hash)."""
        ensure_state_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            tail = self._read_tail(fd)
            chunk = b""
            prev, seq = tail.last_hash, tail.last_seq
            whole = _whole_event(tail.torn, prev) if tail.torn is not None else None
            if whole is not None:
                # The crash cut only the newline: the event is complete and chained; finish it.
                chunk, prev, seq = b"\n", whole[0], whole[1] or seq + 1
            elif tail.torn is not None:
                recovery = self._recovery_fields(fd, tail, fields)
                seq += 1
                line, prev = encode_event({"seq": seq, **recovery}, prev)
                chunk = b"\n" + line
            seq += 1
            event = {"seq": seq, "ts": format_ts(self.clock()), **self.redactor.value(fields)}
            line, digest = encode_event(event, prev)
            os.write(fd, chunk + line)
            os.fsync(fd)
        finally:
            os.close(fd)  # closing drops the flock
        written = {**event, "prev": prev, "hash": digest}
        for listener in self.listeners:
            listener(written)
        return written

    def _read_tail(self, fd: int) -> _Tail:
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
        parts = _split_line(last) if last else None
        if parts is None:
            return _Tail(torn=torn)
        return _Tail(parts[1], _seq_of(last) or 0, torn)

    def _recovery_fields(self, fd: int, tail: _Tail, fields: dict[str, Any]) -> dict[str, Any]:
        torn = tail.torn or b""
        with open(os.dup(fd), "rb") as whole:
            complete = sum(chunk.count(b"\n") for chunk in iter(lambda: whole.read(1 << 20), b""))
        return {
            "ts": format_ts(self.clock()),
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

    def verify(self) -> VerifyResult:
        """Check the whole chain; names the first bad line and why."""
        if not self.path.exists():
            return VerifyResult(True, 0)
        expected = GENESIS
        events = 0
        last_seq = 0
        pending: tuple[int, bytes] | None = None  # a damaged line that a recovery event may explain
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.endswith(b"\n"):
                    return VerifyResult(
                        False,
                        events,
                        number,
                        "truncated tail left by a crash (the last write did not finish); "
                        "the next opsctl run records a recovery event",
                        truncated_tail=True,
                        head=expected,
                        last_seq=last_seq,
                    )
                line = raw[:-1]
                parts = _split_line(line)
                if pending is not None:
                    bad = _check_recovery(line, parts, pending, expected)
                    if bad:
                        return VerifyResult(False, events, pending[0], bad, head=expected)
                    pending = None
                if parts is None:
                    pending = (number, line)
                    continue
                prev, digest = parts
                if not _line_ok(line, digest):
                    return VerifyResult(
                        False, events, number, "content does not match its hash (the line was edited)", head=expected
                    )
                if prev != expected:
                    return VerifyResult(False, events, number, _chain_reason(number, line, last_seq), head=expected)
                expected = digest
                last_seq = _seq_of(line) or last_seq
                events += 1
        if pending is not None:
            return VerifyResult(False, events, pending[0], "not a valid audit event (damaged or edited)", head=expected)
        return VerifyResult(True, events, head=expected, last_seq=last_seq)

    def events(self) -> Iterator[dict[str, Any]]:
        """Every readable event, oldest first, streamed (damaged lines are skipped; `verify` reports them).

        The plain reader, for a caller holding the log; :func:`opsctl.audit.query.read_events`
        is the fast one (memory-mapped, with marks). Both decode lines with :func:`decode_line`.
        """
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            for raw in handle:
                event = decode_line(raw) if raw.endswith(b"\n") else None  # a torn last line is no event yet
                if event is not None:
                    yield event


def _chain_reason(number: int, line: bytes, last_seq: int) -> str:
    if number == 1:
        return "does not start the chain (lines were removed from the start of the log)"
    seq = _seq_of(line)
    if seq is not None and seq > last_seq + 1:
        return f"does not follow the line before it (seq {seq} after {last_seq}): events were deleted or moved"
    if seq is not None and seq <= last_seq:
        return f"does not follow the line before it: lines were reordered or inserted (seq {seq} after {last_seq})"
    return "does not follow the line before it (a line was deleted, inserted or reordered)"


def _check_recovery(line: bytes, parts: tuple[str, str] | None, pending: tuple[int, bytes], expected: str) -> str:
    """Why the line after a damaged one does not account for it ('' when it does)."""
    number, torn = pending
    if parts is None or not _line_ok(line, parts[1]) or parts[0] != expected:
        return "not a valid audit event (damaged or edited)"
    try:
        event = json.loads(line)
    except ValueError:
        return "not a valid audit event (damaged or edited)"
    if (
        event.get("step") != RECOVER_STEP
        or event.get("torn_line") != number
        or event.get("torn_sha256") != hashlib.sha256(torn).hexdigest()
    ):
        return "not a valid audit event (damaged or edited)"
    return ""


@dataclass
class Journal:
    """A run's writer: every event carries the run's id, runbook, env and actor (and extras).

    ``identify``, when given, is asked once, at the first event, who the cloud
    provider says the caller is (an AWS ARN); a non-empty answer joins the
    extras as ``caller_arn``. Unlike the actor, no environment variable can set
    it; asking lazily keeps commands that never write an event off the network.
    """

    log: AuditLog
    run: str
    runbook: str
    env: str | None
    actor: str
    extra: dict[str, Any] = field(default_factory=dict)
    identify: Callable[[], str | None] | None = field(default=None, repr=False, compare=False)
    _identified: bool = field(default=False, init=False, repr=False, compare=False)
    # Checklist items write concurrently: the first events wait for the answer instead of going without it.
    _identifying: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def event(self, step: str, status: str, **fields: Any) -> dict[str, Any]:
        if self.identify is not None and not self._identified:
            self._identify(self.identify)
        base = {
            "run": self.run,
            "runbook": self.runbook,
            "env": self.env or "-",
            "actor": self.actor,
            "step": step,
            "status": status,
        }
        return self.log.append({**base, **self.extra, **fields})

    def _identify(self, identify: Callable[[], str | None]) -> None:
        with self._identifying:
            if self._identified:  # another thread asked while this one waited for the lock
                return
            arn = identify()
            if arn:
                self.extra["caller_arn"] = arn
            self._identified = True
