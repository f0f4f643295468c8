"""Before a run writes to the audit log: the chain must verify, and checking it must stay fast.

A run refuses to start on a log whose chain is broken (appending to it would
bury the damage under fresh, valid-looking events). Re-reading a large log at
every run would make each deploy pay for the whole history, so the position a
check reached is cached in ``<state>/audit.verified`` (offset, line count,
head hash and the length of the last verified line). The next check confirms
the log still holds that line with that hash at that offset, then verifies
only what was appended since. A log that was cut, replaced or rewritten at
that line fails the confirmation and is verified from the start again.

This is a start-up guard, not the audit: an edit *before* the cached position
that leaves the last verified line alone is found by ``opsctl audit verify``
(which always reads everything), not here.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from opsctl.audit.log import AuditLog, ChainPosition, VerifyResult
from opsctl.errors import BadInput
from opsctl.files.paths import display_path

CACHE_NAME = "audit.verified"
_VERSION = 1


def verify_before_run(log: AuditLog, cache: Path | None = None) -> VerifyResult:
    """Verify ``log`` from its cached position (or from the start); BadInput when the chain is broken.

    A torn last line (a crash during the last write) is no reason to refuse:
    the run's first event records its recovery. ``cache`` defaults to
    ``audit.verified`` beside the log.
    """
    cache = cache or log.path.with_name(CACHE_NAME)
    since = _trusted(log, _load(cache))
    result = log.verify(since)
    if not result.ok and not result.truncated_tail:
        shown = display_path(log.path)
        raise BadInput(
            f"the audit log {shown} does not verify: line {result.bad_line}: {result.reason}; nothing was "
            f"started. `opsctl audit verify` shows it; to go on, move the damaged log aside "
            f"(mv {shown} {shown}.damaged) or restore it from a backup or the S3 audit mirror"
        )
    if result.reached.offset and result.reached != since:
        _save(cache, result.reached)
    return result


def _trusted(log: AuditLog, cached: ChainPosition | None) -> ChainPosition | None:
    """``cached`` when the log still holds its last line, unchanged, where it was; else None."""
    if cached is None or cached.offset == 0:
        return None
    try:
        size = os.stat(log.path, follow_symlinks=False).st_size
    except OSError:
        return None
    if size < cached.offset or log.line_hash_at(cached) != cached.head:
        return None
    return cached


def _load(cache: Path) -> ChainPosition | None:
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("v") != _VERSION:
        return None
    try:
        return ChainPosition(**{f.name: _typed(f.type, data[f.name]) for f in fields(ChainPosition)})
    except (KeyError, TypeError, ValueError):
        return None


def _typed(kind: Any, value: Any) -> Any:
    if kind in ("int", int):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(value)
        return value
    if not isinstance(value, str) or len(value) != 64:
        raise ValueError(value)
    return value


def _save(cache: Path, position: ChainPosition) -> None:
    """Write the cache whole (temporary file, rename); it is only a cache, so failing to is no error."""
    temp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"v": _VERSION, **asdict(position)}, handle)
        os.replace(temp, cache)
