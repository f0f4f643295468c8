"""Looking at and breaking an environment's lock by hand (``opsctl lock status | release``).

Breaking a lock is deliberate and audited: it needs ``force``, names the
exact lock on shared stores (a lock may change hands between looking and
breaking), and writes a ``lock.release`` event as a run of its own (its actor
is the breaker; a run that finds its lock gone names them from this event).
A holder whose process is still alive on this host may only be waiting at a
prompt: breaking its lock then needs a second, typed confirmation or ``yes``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsctl.errors import BadInput, RunFailed
from opsctl.locks import make_lock_backend

if TYPE_CHECKING:
    from opsctl.audit.log import Journal
    from opsctl.config import Config
    from opsctl.locks.base import LockInfo


@dataclass(frozen=True)
class LockBreak:
    """What :func:`break_lock` did."""

    env: str
    holder: LockInfo | None  # who held the lock when we looked; None: it was free and nothing was done
    removed: LockInfo | None = None  # what the backend removed (None if it vanished in between)
    run: str | None = None  # the audit run that records the break

    @property
    def released(self) -> bool:
        return self.holder is not None


def lock_holder(config: Config, env: str) -> LockInfo | None:
    """Who holds ``env``'s lock now, or None when it is free."""
    config.environment(env)
    return make_lock_backend(config).status(env)


# Asked when the holder is alive here: (env, warning) -> did the person type the environment's name?
Confirm = Callable[[str, str], bool]


def alive_warning(holder: LockInfo) -> str:
    """What breaking a live holder's lock means, in one line."""
    return (
        f"run {holder.run} (pid {holder.pid} on this host) is still alive; if you break its lock it stops "
        f"before its next change, but a change it is making now may overlap the next run's"
    )


def break_lock(
    config: Config,
    journal: Journal,
    env: str,
    lock_id: str | None,
    *,
    force: bool,
    yes: bool = False,
    confirm: Confirm | None = None,
    finished: Callable[[str], None] | None = None,
) -> LockBreak:
    """Break ``env``'s lock (``lock_id``, when given, must be the one held) and journal it.

    ``journal`` is the run that records the break (its actor is named as the
    breaker); ``finished`` is told its run id once the event is written (the
    workspace's after-run hooks: the S3 mirror uploads it). A free lock is
    no error: nothing is released and nothing is journaled. A holder alive on
    this host needs ``yes`` or ``confirm`` (the person types the environment's
    name); without either it is BadInput naming ``--yes``.
    """
    config.environment(env)
    if not force:
        raise BadInput(f"breaking {env}'s lock needs --force (see `opsctl lock status {env}` first)")
    backend = make_lock_backend(config)
    if lock_id is None and backend.requires_lock_id:
        raise BadInput(
            f"breaking {env}'s shared lock needs --id LOCK_ID, exactly as `opsctl lock status {env}` shows it"
        )
    holder = backend.status(env)
    if holder is None:
        return LockBreak(env, None)
    if lock_id is not None and lock_id != holder.lock_id:
        raise BadInput(f"--id {lock_id} does not match the lock held ({holder.lock_id}); nothing was released")
    if not yes and holder.alive_here():
        warning = alive_warning(holder)
        if confirm is None:
            raise BadInput(f"{warning}; to break it anyway, run in a terminal to confirm, or pass --yes")
        if not confirm(env, warning):
            raise RunFailed(f"not confirmed: {env} was not typed; {env}'s lock was not released")
    removed = backend.force_release(env, lock_id or holder.lock_id)
    journal.event(
        "lock.release",
        "passed",
        summary=f"lock broken by {journal.actor}",
        holder=removed.as_dict() if removed else None,
    )
    if finished is not None:
        finished(journal.run)
    return LockBreak(env, holder, removed, journal.run)
