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

This module is the write side's front door; each job has a module of its own:

- :mod:`opsctl.audit.auditlog`: the :class:`AuditLog` handle (path, key, redactor, clock, listeners);
- :mod:`opsctl.audit.append`: appending one event (lock, torn-tail recovery, fsync, the index hook);
- :mod:`opsctl.audit.chain`: verification (:class:`ChainPosition`, :class:`VerifyResult`);
- :mod:`opsctl.audit.journal`: a run's :class:`Journal`.
"""

from __future__ import annotations

from opsctl.audit.append import append_event
from opsctl.audit.auditlog import AuditLog
from opsctl.audit.chain import ChainPosition, VerifyResult, line_hash_at, verify_keys, verify_lines
from opsctl.audit.journal import Journal

# Callers keep importing these from here; new code may import them from their own modules.
__all__ = [
    "AuditLog",
    "ChainPosition",
    "Journal",
    "VerifyResult",
    "append_event",
    "line_hash_at",
    "verify_keys",
    "verify_lines",
]
