"""The :class:`AuditLog` handle: one log file with its key, redactor, clock and listeners.

It ties the parts together and adds nothing of its own: appending is
:mod:`opsctl.audit.append`, verifying :mod:`opsctl.audit.chain`, one line's
format :mod:`opsctl.audit.line`, opening the file :mod:`opsctl.audit.logfile`.
A run writes through its :class:`~opsctl.audit.journal.Journal`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opsctl.audit.append import append_event
from opsctl.audit.chain import ChainPosition, VerifyResult, line_hash_at, verify_keys, verify_lines
from opsctl.audit.keyed import AuditKey
from opsctl.audit.line import decode_line
from opsctl.audit.logfile import log_error, open_log
from opsctl.values.redact import Redactor


def _now() -> datetime:
    return datetime.now(UTC)


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
        written = append_event(self.path, fields, clock=self.clock, redactor=self.redactor, secret=secret)
        for listener in self.listeners:
            listener(written)
        return written

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
                result = verify_lines(handle, start)
                if secret is None or not result.ok:
                    return result
                handle.seek(0)
                return verify_keys(handle, secret, result)
        except OSError as exc:
            raise log_error(self.path, exc) from None

    def line_hash_at(self, position: ChainPosition) -> str | None:
        """The hash of the last line of ``position`` as the log holds it now (None: not a chained line there).

        Lets a cached position be trusted again cheaply: same bytes before it, as far as that line tells.
        """
        return line_hash_at(self.path, position)

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
