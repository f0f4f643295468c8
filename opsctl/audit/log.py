"""The audit log: hash-chained JSON Lines, append-only (DESIGN section 5).

Each line is one event. Its last two fields are fixed-width::

    {"seq":7,"ts":"...","run":"...",...,"prev":"<64 hex>","hash":"<64 hex>"}

``hash`` is the SHA-256 of the line's own bytes with the ``hash`` field cut
off (``{...,"prev":"..."}``), and ``prev`` is the hash of the line before
(64 zeros for the first). Verification therefore never re-serialises JSON:
it slices fixed offsets from the end of each line and hashes, which is what
lets ``opsctl audit verify`` check hundreds of thousands of events a second.

With ``audit.hmac_key_env`` (:mod:`opsctl.audit.keyed`) each line also has a
fixed-width ``"hmac":"<64 hex>"`` just before ``prev``; cut out by offset, it
leaves exactly the bytes it signs (those the chain would hash without it).

Writers append under an exclusive ``flock`` with one ``os.write`` of one
complete line on an ``O_APPEND`` descriptor, then ``fsync``. A crash can
leave at most a torn last line (no newline); the next writer terminates it
and records an ``audit.recover`` event naming it, which ``verify`` accepts.

The file is opened with ``O_NOFOLLOW`` and must be a regular file
(:mod:`opsctl.audit.logfile`); any OS error opening, reading or writing it is
an :class:`~opsctl.audit.logfile.AuditLogError` naming the path, never a traceback.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opsctl.audit.keyed import CONFIG_KEY, AuditKey, matches
from opsctl.audit.line import (
    GENESIS,
    HMAC_FIELD,
    RECOVER_STEP,
    decode_line,
    encode_event,
    format_ts,
    keyed_line,
    line_ok,
    seq_of,
    split_line,
    whole_event,
)
from opsctl.audit.logfile import log_error, open_log, write_all
from opsctl.files.statedir import ensure_state_dir
from opsctl.values.redact import Redactor

_TAIL_CHUNK = 64 * 1024


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ChainPosition:
    """How far a log was verified: the first ``offset`` bytes (``lines`` lines, ``events`` events) chain
    up to ``head``; ``tail`` is the length of the last of those lines, so the line can be found and its
    hash compared again before verifying on from here (:mod:`opsctl.audit.precheck`)."""

    offset: int = 0
    lines: int = 0
    events: int = 0
    head: str = GENESIS
    last_seq: int = 0
    tail: int = 0


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    bad_line: int | None = None
    reason: str | None = None
    truncated_tail: bool = False
    head: str = GENESIS
    last_seq: int = 0
    # The end of the verified part (all of it when ok; before the first bad or torn line otherwise).
    reached: ChainPosition = field(default_factory=ChainPosition)
    keyed: int | None = None  # events with a valid HMAC (None: no audit.hmac_key_env, or not a full check)

    @property
    def message(self) -> str:
        if self.ok:
            keyed = "" if self.keyed is None else f"; {self.keyed} with a valid HMAC"
            return f"audit log intact: {self.events} events, head {self.head[:12]}{keyed}"
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
    # audit.hmac_key_env: every event is keyed with it, and a full verify checks the keys (opsctl.audit.keyed).
    key: AuditKey | None = None
    # Runs journaled as interrupted in this process: their journals write nothing more until resumed.
    closed_runs: set[str] = field(default_factory=set, repr=False, compare=False)

    def append(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Append one event; returns it as written (with seq, ts, prev and hash; ``hmac`` when keyed).

        AuditLogError (exit 2) when the log cannot be written: not a regular
        file, a symlink, a full disk, a failing fsync; ConfigError when the
        configured HMAC key's variable is not set (nothing is written unkeyed).
        """
        secret = self.key.secret() if self.key is not None else None
        ensure_state_dir(self.path.parent)
        fd = open_log(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            tail = self._read_tail(fd)
            chunk = b""
            prev, seq = tail.last_hash, tail.last_seq
            whole = whole_event(tail.torn, prev) if tail.torn is not None else None
            if whole is not None:
                # The crash cut only the newline: the event is complete and chained; finish it.
                chunk, prev, seq = b"\n", whole[0], whole[1] or seq + 1
            elif tail.torn is not None:
                recovery = self._recovery_fields(fd, tail, fields)
                seq += 1
                line, prev = encode_event({"seq": seq, **recovery}, prev, secret)
                chunk = b"\n" + line
            seq += 1
            event = {"seq": seq, "ts": format_ts(self.clock()), **self.redactor.value(fields)}
            event.pop(HMAC_FIELD, None)  # reserved, like prev and hash: only the key makes it
            line, digest = encode_event(event, prev, secret)
            # One write of whole lines (looped only if the kernel takes part of it); a write cut
            # short by a full disk leaves a torn tail that the next writer recovers.
            write_all(fd, chunk + line)
            os.fsync(fd)
        except OSError as exc:
            raise log_error(self.path, exc) from None
        finally:
            os.close(fd)  # closing drops the flock
        from opsctl.audit.index import after_append

        after_append(self.path)  # the derived index (history commands); best effort, it never fails the append
        keyed = keyed_line(line[:-1]) if secret is not None else None
        written = {**event, **({HMAC_FIELD: keyed[0]} if keyed else {}), "prev": prev, "hash": digest}
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
        parts = split_line(last) if last else None
        if parts is None:
            return _Tail(torn=torn)
        return _Tail(parts[1], seq_of(last) or 0, torn)

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

    def verify(self, since: ChainPosition | None = None) -> VerifyResult:
        """Check the chain; names the first bad line and why.

        ``since`` verifies only what follows a position an earlier check
        reached (the caller has made sure the log still holds it there). A log
        that is not there is intact and empty; one that cannot be read (a
        symlink, a fifo, a folder) is AuditLogError.

        With ``audit.hmac_key_env`` a full check (no ``since``) also checks
        every event's HMAC (ConfigError when the key's variable is not set).
        """
        secret = self.key.secret() if self.key is not None and since is None else None
        if not os.path.lexists(self.path):
            return VerifyResult(True, 0, keyed=None if secret is None else 0)
        start = since or ChainPosition()
        try:
            with os.fdopen(open_log(self.path, os.O_RDONLY), "rb") as handle:
                handle.seek(start.offset)
                result = _verify_lines(handle, start)
                if secret is None or not result.ok:
                    return result
                handle.seek(0)
                return _verify_keys(handle, secret, result)
        except OSError as exc:
            raise log_error(self.path, exc) from None

    def line_hash_at(self, position: ChainPosition) -> str | None:
        """The hash of the last line of ``position`` as the log holds it now (None: not a chained line there).

        Lets a cached position be trusted again cheaply: same bytes before it, as far as that line tells.
        """
        if position.offset == 0:
            return GENESIS
        start = position.offset - position.tail
        if position.tail <= 0 or start < 0 or not os.path.lexists(self.path):
            return None
        fd = open_log(self.path, os.O_RDONLY)
        try:
            data = os.pread(fd, position.tail + 1, start - 1) if start else b"\n" + os.pread(fd, position.tail, 0)
        except OSError as exc:
            raise log_error(self.path, exc) from None
        finally:
            os.close(fd)
        if len(data) != position.tail + 1 or not data.startswith(b"\n") or not data.endswith(b"\n"):
            return None
        line = data[1:-1]
        parts = split_line(line)
        if parts is None or not line_ok(line, parts[1]):
            return None
        return parts[1]

    def events(self) -> Iterator[dict[str, Any]]:
        """Every readable event, oldest first, streamed (damaged lines are skipped; `verify` reports them).

        The plain reader, for a caller holding the log; :func:`opsctl.audit.query.read_events`
        is the fast one (memory-mapped, with marks). Both decode lines with :func:`decode_line`.
        """
        if not os.path.lexists(self.path):
            return
        with os.fdopen(open_log(self.path, os.O_RDONLY), "rb") as handle:
            for raw in handle:
                event = decode_line(raw) if raw.endswith(b"\n") else None  # a torn last line is no event yet
                if event is not None:
                    yield event


def _verify_lines(handle: Any, start: ChainPosition) -> VerifyResult:
    """Verify the lines ``handle`` (binary, at ``start.offset``) reads, chained to ``start``.

    The result's ``reached`` is the end of the last good line, never inside
    a damaged line and its recovery, so a later check may start there. Per
    line only a reference is kept (``last``): positions come from
    ``handle.tell()`` when needed, which keeps verification at full speed.
    """
    expected, events, last_seq = start.head, start.events, start.last_seq
    last: bytes | None = None  # the last good line read here (None: still the one ``start`` ends with)
    pending: tuple[int, bytes, ChainPosition] | None = None  # a damaged line a recovery event may explain

    def position(end: int, lines: int) -> ChainPosition:
        tail = len(last) if last is not None else start.tail
        return ChainPosition(end, lines, events, expected, last_seq, tail)

    def failed(number: int, raw: bytes, reason: str, **more: Any) -> VerifyResult:
        reached = pending[2] if pending is not None else position(handle.tell() - len(raw), number - 1)
        return VerifyResult(False, events, number, reason, head=expected, reached=reached, **more)

    number = start.lines
    for number, raw in enumerate(handle, start=start.lines + 1):
        if not raw.endswith(b"\n"):
            return failed(
                number,
                raw,
                "truncated tail left by a crash (the last write did not finish); "
                "the next opsctl run records a recovery event",
                truncated_tail=True,
                last_seq=last_seq,
            )
        line = raw[:-1]
        parts = split_line(line)
        if pending is not None:
            bad = _check_recovery(line, parts, pending[:2], expected)
            if bad:
                return failed(pending[0], raw, bad)
            pending = None
        if parts is None:
            pending = (number, line, position(handle.tell() - len(raw), number - 1))
            continue
        prev, digest = parts
        if not line_ok(line, digest):
            return failed(number, raw, "content does not match its hash (the line was edited)")
        if prev != expected:
            return failed(number, raw, _chain_reason(number, line, last_seq))
        expected = digest
        last_seq = seq_of(line) or last_seq
        events += 1
        last = raw
    if pending is not None:
        return failed(pending[0], b"", "not a valid audit event (damaged or edited)")
    return VerifyResult(True, events, head=expected, last_seq=last_seq, reached=position(handle.tell(), number))


def _verify_keys(handle: Any, secret: bytes, result: VerifyResult) -> VerifyResult:
    """Check the HMAC of every event of a chain that verified; ``result`` with how many carry a valid one.

    Events written before the key was configured carry none and are accepted;
    from the first keyed event on, every event must carry one the key made.
    """
    keyed = 0
    first: int | None = None
    for number, raw in enumerate(handle, start=1):
        if not raw.endswith(b"\n"):
            break  # a torn tail is no event (the chain check accepted it)
        line = raw[:-1]
        if split_line(line) is None:
            continue  # a damaged line that its recovery event explains: no event
        found = keyed_line(line)
        if found is None:
            if first is None:
                continue
            reason = (
                f"no HMAC, though the events from line {first} on carry one: appended without the "
                f"{CONFIG_KEY} key (a forged line?)"
            )
            return replace(result, ok=False, bad_line=number, reason=reason)
        if not matches(secret, found[1], found[0]):
            reason = f"HMAC does not match: a forged or edited line, or one keyed with another {CONFIG_KEY} key"
            return replace(result, ok=False, bad_line=number, reason=reason)
        first = first or number
        keyed += 1
    return replace(result, keyed=keyed)


def _chain_reason(number: int, line: bytes, last_seq: int) -> str:
    if number == 1:
        return "does not start the chain (lines were removed from the start of the log)"
    seq = seq_of(line)
    if seq is not None and seq > last_seq + 1:
        return f"does not follow the line before it (seq {seq} after {last_seq}): events were deleted or moved"
    if seq is not None and seq <= last_seq:
        return f"does not follow the line before it: lines were reordered or inserted (seq {seq} after {last_seq})"
    return "does not follow the line before it (a line was deleted, inserted or reordered)"


def _check_recovery(line: bytes, parts: tuple[str, str] | None, pending: tuple[int, bytes], expected: str) -> str:
    """Why the line after a damaged one does not account for it ('' when it does)."""
    number, torn = pending
    if parts is None or not line_ok(line, parts[1]) or parts[0] != expected:
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


_REOPENING = frozenset({"started", "resumed"})  # run events that open a run's journal again


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
        if step == "run" and status in _REOPENING:
            self.log.closed_runs.discard(self.run)
        elif self.run in self.log.closed_runs:
            # "run interrupted" is the run's last word: a worker thread that outlived it (a checklist
            # item, a rollout) must not write after it, or the journal would contradict itself.
            return {**base, **self.extra, **fields, "written": False}
        event = self.log.append({**base, **self.extra, **fields})
        if step == "run" and status == "interrupted":
            self.log.closed_runs.add(self.run)
        return event

    def _identify(self, identify: Callable[[], str | None]) -> None:
        with self._identifying:
            if self._identified:  # another thread asked while this one waited for the lock
                return
            arn = identify()
            if arn:
                self.extra["caller_arn"] = arn
            self._identified = True
