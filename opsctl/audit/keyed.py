"""The audit log's HMAC key (``audit.hmac_key_env``): what a forger who can write the file does not have.

The hash chain shows accidental and naive edits, but anyone who can write
the file can append events with recomputed hashes. With a key configured,
every event also carries ``hmac``: HMAC-SHA256, keyed by the variable's
value, over the bytes the chain hashes (without the ``hmac`` field itself).
Reads that grant permission (promotion, rollback targets, ``audit.verified_in``)
then count only events whose HMAC verifies (:mod:`opsctl.audit.evidence`).

The key's value is read from the environment when it is needed and never
stored in an event, an error or a log line; as a ``*_env`` key of the config
its value is also masked in all output (:mod:`opsctl.values.redact`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from opsctl.errors import ConfigError

CONFIG_KEY = "audit.hmac_key_env"


@dataclass(frozen=True)
class AuditKey:
    """The key named by ``audit.hmac_key_env``: the variable's name; its value is read at each use."""

    env: str

    @classmethod
    def named(cls, env: str | None) -> AuditKey | None:
        """The key of ``env`` (None: no key configured)."""
        return cls(env) if env else None

    def secret(self) -> bytes:
        """The variable's value; ConfigError (exit 2) when it is unset or empty (nothing is written unkeyed)."""
        value = os.environ.get(self.env, "")
        if not value:
            raise ConfigError(
                f"{CONFIG_KEY} names {self.env}, which is not set: opsctl keys every audit event with its "
                f"value; set {self.env} (or remove {CONFIG_KEY} from opsctl.yaml)"
            )
        return value.encode()


def sign(secret: bytes, signed: bytes) -> str:
    """HMAC-SHA256 of ``signed`` as 64 hex digits."""
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


def matches(secret: bytes, signed: bytes, given: str) -> bool:
    """``given`` is the HMAC of ``signed`` (compared in constant time)."""
    return hmac.compare_digest(sign(secret, signed), given)
