"""A run holds its environment's lock, and stops before a change once the lock is lost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opsctl.engine.context import RunContext
from opsctl.engine.models import Step
from opsctl.engine.runbook import Guard
from opsctl.errors import NeedsHuman
from opsctl.process.signals import sigterm_as_interrupt
from opsctl.runs.result import RunOptions

if TYPE_CHECKING:
    from opsctl.locks.base import LockHandle
    from opsctl.workspace import Workspace


def lock_guard(lock: LockHandle | None) -> Guard:
    """Before each change: stop if the lock was lost (its heartbeat found it broken or taken over)."""

    def check(ctx: RunContext, step: Step) -> None:
        if lock is not None and lock.lost:
            raise NeedsHuman(
                f"lost the lock on {ctx.env_name} before step {step.id}: it was broken or taken "
                f"over; stopped before changing anything else. See `opsctl lock status {ctx.env_name}`"
                " and `opsctl status`"
            )

    return check


@contextmanager
def locked(ws: Workspace, ctx: RunContext, runbook: str, options: RunOptions) -> Iterator[LockHandle | None]:
    """Hold the environment's lock (not for dry runs) and turn SIGTERM into an interrupt."""
    from opsctl.locks import make_lock_backend
    from opsctl.locks.base import LockInfo

    handle = None
    if not options.dry_run:
        info = LockInfo.for_run(str(ctx.env_name), ctx.run_id, ctx.actor, runbook, ctx.run_id)
        handle = make_lock_backend(ws.config).acquire(info)
    try:
        with sigterm_as_interrupt():
            yield handle
    finally:
        if handle is not None:
            handle.release()
        ws.run_finished(ctx.run_id)
