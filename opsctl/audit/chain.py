"""Verifying the audit log's hash chain (and its HMACs) from the bytes of its lines.

:func:`verify_lines` walks the lines from a :class:`ChainPosition` an earlier
check reached, slicing the fixed-width ``prev`` and ``hash`` fields from the
end of each line (:mod:`opsctl.audit.line`), never re-serialising JSON; a
damaged line is accepted only when the next line is the ``audit.recover``
event naming it. :func:`verify_keys` then checks every event's HMAC, and
:func:`line_hash_at` re-reads the one line a cached position ends with.
Callers go through :meth:`opsctl.audit.auditlog.AuditLog.verify`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from opsctl.audit.keyed import CONFIG_KEY, matches
from opsctl.audit.line import GENESIS, RECOVER_STEP, keyed_line, line_ok, seq_of, split_line
from opsctl.audit.logfile import log_error, open_log


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


def line_hash_at(path: Path, position: ChainPosition) -> str | None:
    """The hash of the last line of ``position`` as the log at ``path`` holds it now (None: not a chained
    line there). AuditLogError naming the path when the log cannot be read."""
    if position.offset == 0:
        return GENESIS
    start = position.offset - position.tail
    if position.tail <= 0 or start < 0 or not os.path.lexists(path):
        return None
    fd = open_log(path, os.O_RDONLY)
    try:
        data = os.pread(fd, position.tail + 1, start - 1) if start else b"\n" + os.pread(fd, position.tail, 0)
    except OSError as exc:
        raise log_error(path, exc) from None
    finally:
        os.close(fd)
    if len(data) != position.tail + 1 or not data.startswith(b"\n") or not data.endswith(b"\n"):
        return None
    line = data[1:-1]
    parts = split_line(line)
    if parts is None or not line_ok(line, parts[1]):
        return None
    return parts[1]


def verify_lines(handle: Any, start: ChainPosition) -> VerifyResult:
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


def verify_keys(handle: Any, secret: bytes, result: VerifyResult) -> VerifyResult:
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
