"""The lock interface shared by the file and DynamoDB backends, and the fencing token of a held lock.

A lock that was broken (``opsctl lock release --force``) or taken over after
expiry may still be *believed* held by its old run: a process waiting at a
prompt does not notice. Every acquisition therefore gets a
:class:`FencingToken` (a random id and a generation that only grows per
environment), and :meth:`LockHandle.check` asks the store whether the lock is
still this acquisition's. A run calls it at each change it is about to make
(step starts, every mutating platform call) and stops with :class:`LockLost`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from opsctl.errors import ExitCode, Locked, OpsctlError


def iso(epoch: float) -> str:
    """``epoch`` as the ISO time a LockInfo carries (UTC, whole seconds, ``Z``): ``2026-11-30T10:15:00Z``."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


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
        return cls(env, run, actor, runbook, lock_id, socket.gethostname(), os.getpid(), iso(time.time()))

    def held(self, until: float, *, since: float | None = None) -> LockInfo:
        """This holder as a store records it once taken: expiring at ``until`` (and since ``since``, if given)."""
        started = iso(since) if since is not None else self.since
        return dataclasses.replace(self, since=started, expires_at=iso(until))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LockInfo:
        """The holder as :meth:`as_dict` wrote it (other keys, such as the token, are ignored)."""
        names = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in names})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        where = f"{self.host}, pid {self.pid}" if self.pid else self.host
        return f"run {self.run} ({self.runbook}) by {self.actor} on {where} since {self.since}"

    def locked_error(self) -> Locked:
        return Locked(
            f"{self.env} is locked by {self.describe()}; wait for it to finish, or see `opsctl lock status {self.env}`"
        )

    def alive_here(self) -> bool:
        """True when the holder's process runs on this host now (same host name, its pid exists).

        A live holder may be waiting at a prompt: breaking its lock lets two
        runs change the environment at once, so the CLI asks again.
        """
        if not self.pid or self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # it exists, under another user
            return True
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class FencingToken:
    """One acquisition of one environment's lock.

    ``id`` is random and names this acquisition only; ``generation`` grows by
    one at every acquisition of the environment's lock, so a later holder
    always has a larger number than any earlier one.
    """

    id: str
    generation: int

    def __str__(self) -> str:
        return f"generation {self.generation}"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "generation": self.generation}


class LockLost(OpsctlError):
    """The run's lock was broken or taken over while it ran: it must not change anything more.

    ``holder`` is who holds the lock now (None: nobody); ``where`` says where
    the run noticed (``before step deploy``), filled in by the step runner.
    The run turns this into a NeedsHuman message naming the breaker.
    """

    exit_code = ExitCode.NEEDS_HUMAN

    def __init__(self, env: str, token: FencingToken, holder: LockInfo | None, where: str = "") -> None:
        self.env = env
        self.token = token
        self.holder = holder
        self.where = where
        at = f" {where}" if where else ""
        super().__init__(f"lost the lock on {env}{at}: it was broken or taken over")

    def at(self, where: str) -> LockLost:
        """The same loss, noticed ``where`` (the first place named is kept)."""
        return self if self.where else LockLost(self.env, self.token, self.holder, where)


class LockHandle(ABC):
    backend: LockBackend
    info: LockInfo
    token: FencingToken
    # Set when the lock turned out broken or taken over while held (the run stops before its next change).
    lost: bool = False

    @abstractmethod
    def release(self) -> None:
        """Give the lock back (idempotent); never touches a lock that is no longer this acquisition's."""

    def check(self) -> None:
        """Raise :class:`LockLost` (and set ``lost``) unless the store still holds this acquisition's lock."""
        if self.lost:
            raise LockLost(self.info.env, self.token, self._holder_now())
        if not self._still_ours():
            self.lost = True
            raise LockLost(self.info.env, self.token, self._holder_now())

    @abstractmethod
    def _still_ours(self) -> bool:
        """Ask the store whether the lock is still this acquisition's."""

    def _holder_now(self) -> LockInfo | None:
        """Who holds the lock now (for the message), or None."""
        return holder_of(self.backend, self.info.env)

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


def holder_of(backend: LockBackend, env: str) -> LockInfo | None:
    """``backend.status(env)``, or None when even that cannot be read (for messages only)."""
    with contextlib.suppress(OpsctlError, OSError):
        return backend.status(env)
    return None
