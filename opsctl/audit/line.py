"""One line of the audit log: how an event is encoded, chained and keyed, and read back.

Each line is one event whose last two fields are fixed-width::

    {"seq":7,"ts":"...","run":"...",...,"prev":"<64 hex>","hash":"<64 hex>"}

``hash`` is the SHA-256 of the line's own bytes with the ``hash`` field cut
off, ``prev`` the hash of the line before (64 zeros for the first), and with
``audit.hmac_key_env`` a fixed-width ``"hmac":"<64 hex>"`` stands just before
``prev``. Everything here works on bytes at fixed offsets from the end of a
line, never re-serialising JSON; :mod:`opsctl.audit.log` writes and verifies
whole files with it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opsctl.audit.keyed import matches, sign

GENESIS = "0" * 64
_HASH_MARK = b',"hash":"'
_PREV_MARK = b',"prev":"'
_SUFFIX = len(_HASH_MARK) + 64 + 2  # ,"hash":"<64>"}
_PREV_PART = len(_PREV_MARK) + 64 + 1  # ,"prev":"<64>"
_HMAC_MARK = b',"hmac":"'
_HMAC_PART = len(_HMAC_MARK) + 64 + 1  # ,"hmac":"<64>", just before prev when audit.hmac_key_env is set
HMAC_FIELD = "hmac"
_MIN_LINE = 1 + _PREV_PART + _SUFFIX
RECOVER_STEP = "audit.recover"


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


def encode_event(fields: dict[str, Any], prev: str, secret: bytes | None = None) -> tuple[bytes, str]:
    """The line (with newline) for ``fields`` chained to ``prev``, and its hash.

    With ``secret`` (the ``audit.hmac_key_env`` key) the line also carries
    ``"hmac"`` just before ``prev``: the HMAC of the bytes the chain would hash
    without it, which :func:`keyed_line` cuts back out by offset.
    """
    body = json.dumps(fields, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode()
    chained = _PREV_MARK + prev.encode() + b'"'
    pre = body[:-1] + chained
    if secret is not None:
        pre = body[:-1] + _HMAC_MARK + sign(secret, pre + b"}").encode() + b'"' + chained
    digest = hashlib.sha256(pre + b"}").hexdigest()
    return pre + _HASH_MARK + digest.encode() + b'"}\n', digest


def keyed_line(line: bytes) -> tuple[str, bytes] | None:
    """(hmac, the bytes it signs) of an event line (without newline) that carries one; None otherwise."""
    if split_line(line) is None:
        return None
    pre = line[:-_SUFFIX]
    mark = len(pre) - _PREV_PART - _HMAC_PART
    if mark < 1 or pre[mark : mark + len(_HMAC_MARK)] != _HMAC_MARK or pre[-_PREV_PART - 1 : -_PREV_PART] != b'"':
        return None
    given = pre[mark + len(_HMAC_MARK) : -_PREV_PART - 1].decode("ascii", "replace")
    return given, pre[:mark] + pre[-_PREV_PART:] + b"}"


def line_keyed(line: bytes, secret: bytes) -> bool:
    """The line (without newline) carries an HMAC that ``secret`` made: only its holder can write such a line."""
    found = keyed_line(line)
    return found is not None and matches(secret, found[1], found[0])


def split_line(line: bytes) -> tuple[str, str] | None:
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


def whole_event(torn: bytes, prev: str) -> tuple[str, int | None] | None:
    """(hash, seq) when ``torn`` is a complete event chained to ``prev`` that only lacks its newline."""
    parts = split_line(torn)
    if parts is None or parts[0] != prev or not line_ok(torn, parts[1]):
        return None
    return parts[1], seq_of(torn)


def line_ok(line: bytes, expected_hash: str) -> bool:
    return hashlib.sha256(line[:-_SUFFIX] + b"}").hexdigest() == expected_hash


def seq_of(line: bytes) -> int | None:
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
    parts = split_line(line)
    seq = seq_of(line)
    if parts is None or seq is None:
        return None
    return ChainLine(seq, parts[0], parts[1], line_ok(line, parts[1]))


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
