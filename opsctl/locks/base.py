"""The lock interface shared by the file and DynamoDB backends."""

from __future__ import annotations

import os
import socket
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from opsctl.errors import Locked


@dataclass(frozen=True)
class LockInfo:
    """Who holds an environment's lock, and since when."""

    env: str
    run: str
    actor: str
    runbook: str
    lock_id: str
    host: str = ""
    pid: int = 0
    since: str = ""
    expires_at: str | None = None

    @classmethod
    def for_run(cls, env: str, run: str, actor: str, runbook: str, lock_id: str) -> LockInfo:
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return cls(env, run, actor, runbook, lock_id, socket.gethostname(), os.getpid(), now)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        where = f"{self.host}, pid {self.pid}" if self.pid else self.host
        return f"run {self.run} ({self.runbook}) by {self.actor} on {where} since {self.since}"

    def locked_error(self) -> Locked:
        return Locked(
            f"{self.env} is locked by {self.describe()}; wait for it to finish, or see `opsctl lock status {self.env}`"
        )


class LockHandle(ABC):
    info: LockInfo
    # Set when the lock turned out broken or taken over while held (the run stops before its next change).
    lost: bool = False

    @abstractmethod
    def release(self) -> None:
        """Give the lock back (idempotent)."""

    def __enter__(self) -> LockHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class LockBackend(ABC):
    # A shared store (DynamoDB) is breakable only by exact lock id: the lock may change hands
    # between `opsctl lock status` and `opsctl lock release`.
    requires_lock_id: bool = False

    @abstractmethod
    def acquire(self, info: LockInfo) -> LockHandle:
        """Take ``info.env``'s lock or raise Locked naming the holder."""

    @abstractmethod
    def status(self, env: str) -> LockInfo | None:
        """The current holder, or None when the environment is free."""

    @abstractmethod
    def force_release(self, env: str, lock_id: str | None) -> LockInfo | None:
        """Break a stuck lock; returns what was removed. ``lock_id`` must match when the backend needs it."""
