"""Checkpoints: what the local log looked like when runs were mirrored, chained and optionally signed.

A checkpoint is canonical JSON (sorted keys, no spaces)::

    {"v": 1, "log": "<log id>", "run": "<run that ended>", "runs": [<runs uploaded with it>],
     "last_seq": 1234, "head": "<hash of line 1234>", "prev_checkpoint": "<sha256 of the previous
     checkpoint object, 64 zeros for the first>", "ts": "...", "actor": "...", "host": "...",
     "sig": {"alg": "ed25519" | "kms:ECDSA_SHA_256" | ..., "key": "<key id>", "value": "<base64>"}}

``last_seq``/``head`` pin the whole chain up to that line: a local log that
later ends earlier (a cut tail) or holds another line there (a rewrite) no
longer matches. ``prev_checkpoint`` chains the checkpoints themselves, so a
removed or replaced checkpoint breaks the chain. The signature covers
:func:`signed_message`: a short, fixed-size text naming the SHA-256 of the
checkpoint without its ``sig``, the same bytes for Ed25519 and for KMS ``Sign``
(``MessageType=RAW``, well under its 4 KiB limit however many runs it lists).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

VERSION = 1
MESSAGE_TAG = b"opsctl-audit-checkpoint-v1\n"


@dataclass(frozen=True)
class Checkpoint:
    log: str
    run: str
    last_seq: int
    head: str
    prev_checkpoint: str
    ts: str
    actor: str
    host: str
    runs: tuple[str, ...] = ()
    sig: dict[str, str] | None = field(default=None, compare=False)

    def body(self) -> dict[str, Any]:
        data = {"v": VERSION, **asdict(self)}
        data["runs"] = list(self.runs)
        del data["sig"]
        return data

    def to_bytes(self) -> bytes:
        data = self.body()
        if self.sig is not None:
            data["sig"] = dict(self.sig)
        return _canonical(data)

    def signed(self, sig: dict[str, str]) -> Checkpoint:
        return replace(self, sig=sig)

    @classmethod
    def parse(cls, data: bytes) -> Checkpoint:
        """Read a checkpoint object; raises ValueError when it is not one."""
        raw = json.loads(data)
        if not isinstance(raw, dict) or raw.get("v") != VERSION:
            raise ValueError("not an opsctl checkpoint (v1)")
        sig = raw.get("sig")
        if sig is not None and not (isinstance(sig, dict) and all(isinstance(v, str) for v in sig.values())):
            raise ValueError("malformed signature block")
        try:
            return cls(
                str(raw["log"]),
                str(raw["run"]),
                int(raw["last_seq"]),
                str(raw["head"]),
                str(raw["prev_checkpoint"]),
                str(raw["ts"]),
                str(raw["actor"]),
                str(raw["host"]),
                tuple(str(r) for r in raw.get("runs", ())),
                sig,
            )
        except (KeyError, TypeError, ValueError):
            raise ValueError("a checkpoint field is missing or malformed") from None


def signed_message(checkpoint: Checkpoint) -> bytes:
    """The bytes a signature covers: a tag and the SHA-256 of the checkpoint without ``sig``."""
    return MESSAGE_TAG + hashlib.sha256(_canonical(checkpoint.body())).hexdigest().encode()


def object_hash(data: bytes) -> str:
    """What the next checkpoint's ``prev_checkpoint`` holds: the SHA-256 of the stored object."""
    return hashlib.sha256(data).hexdigest()


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
