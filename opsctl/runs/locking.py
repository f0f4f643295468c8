"""A run holds its environment's lock, and stops before a change once the lock is lost.

Holding is fenced: the run's context gets the lock's ``check`` as its fence
(``ctx.fence``), which the platform drivers call before every mutating API
call, and :func:`lock_guard` calls it at the start of every step that changes
anything. A lock broken or taken over meanwhile raises ``LockLost`` there,
before the change. The audit log is verified before the lock is even taken.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opsctl.audit.logfile import AuditLogError
from opsctl.engine.context import RunContext
from opsctl.engine.models import Step
from opsctl.engine.runbook import Guard
from opsctl.locks.base import LockLost
from opsctl.process.signals import sigterm_as_interrupt
from opsctl.runs.fencing import audit_failed
from opsctl.runs.result import RunOptions

if TYPE_CHECKING:
    from opsctl.locks.base import LockHandle
    from opsctl.workspace import Workspace


def lock_guard(lock: LockHandle | None) -> Guard:
    """Before each change: stop if the lock is no longer this run's (broken, or taken over after expiry)."""

    def check(ctx: RunContext, step: Step) -> None:
        del ctx
        if lock is None:
            return
        try:
            lock.check()
        except LockLost as lost:
            raise lost.at(f"before step {step.id}") from None

    return check


@contextmanager
def locked(ws: Workspace, ctx: RunContext, runbook: str, options: RunOptions) -> Iterator[LockHandle | None]:
    """Verify the audit log, hold the environment's lock (not for dry runs), fence the run with it,
    and turn SIGTERM into an interrupt.

    An audit log that stops taking events inside is the run's end: exit 2
    before any change, exit 3 (naming the platform's state) after one.
    """
    from opsctl.audit.precheck import verify_before_run
    from opsctl.locks import make_lock_backend
    from opsctl.locks.base import LockInfo

    verify_before_run(ws.audit)  # a broken chain: nothing starts (BadInput naming the line)
    handle = None
    if not options.dry_run:
        info = LockInfo.for_run(str(ctx.env_name), ctx.run_id, ctx.actor, runbook, ctx.run_id)
        handle = make_lock_backend(ws.config).acquire(info)
        ctx.fence = handle.check
    try:
        with sigterm_as_interrupt():
            yield handle
    except AuditLogError as exc:
        raise audit_failed(ctx, exc) from None
    finally:
        if handle is not None:
            handle.release()
        # The run's own outcome is journaled (or its error raised) already: an after-run hook's
        # warning that cannot be written to a failing log must not replace it.
        with contextlib.suppress(AuditLogError):
            ws.run_finished(ctx.run_id)
