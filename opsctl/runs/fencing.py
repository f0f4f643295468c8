"""How a run stops when it can no longer prove what it does: its lock was lost, or its journal failed.

Both stop the run before its next change and exit 3 (a person must look): the
message says what happened, what the platform runs now, and how to go on
(``opsctl resume RUN``). A run that had changed nothing yet when the audit log
failed keeps that failure's own exit 2: there is nothing to look at.
"""

from __future__ import annotations

import contextlib
from typing import Any

from opsctl.audit.logfile import AuditLogError
from opsctl.engine.context import RunContext
from opsctl.errors import NeedsHuman, OpsctlError
from opsctl.locks.base import LockLost

BREAK_STEP = "lock.release"  # the event `opsctl lock release --force` journals (its actor broke the lock)


def platform_state(ctx: RunContext) -> str:
    """``it now runs ID (IMAGE)`` plus the platform's warnings, or why that could not be read."""
    try:
        current = ctx.platform().current_release()
    except Exception as exc:  # the platform itself may be what is broken
        return f"its state could not be read ({type(exc).__name__}: {exc})"
    warnings = "; ".join(ctx.platform().warnings())
    return f"it now runs {current.id} ({current.image}){'; ' + warnings if warnings else ''}"


def lock_lost(ctx: RunContext, lost: LockLost) -> NeedsHuman:
    """Journal the run as ``needs_human`` (resumable) and return the error naming who broke the lock."""
    env = ctx.env_name
    holder = f"It is held now by {lost.holder.describe()}" if lost.holder else "Nobody holds it now"
    message = (
        f"{lost}; stopped before changing anything else. {_breaker(ctx)}{holder}."
        f" The platform: {platform_state(ctx)}. Check `opsctl status {env}`; to finish this run's"
        f" change, `opsctl resume {ctx.run_id}`"
    )
    ctx.journal.event(
        "run",
        "needs_human",
        summary=message,
        release_before=ctx.state.previous,
        attempted=ctx.state.attempted,
        lock_lost={"generation": lost.token.generation},
        resumable=True,
    )
    return NeedsHuman(message)


def _breaker(ctx: RunContext) -> str:
    """``Broken by ACTOR at TS (run R). `` from the newest ``lock.release`` of this run's lock, if journaled here.

    A shared (DynamoDB) lock may have been broken from another machine: then
    only the store's current holder is known.
    """
    from opsctl.audit.query import EventFilter, find_events

    events: list[dict[str, Any]] = []
    with contextlib.suppress(OpsctlError, OSError):
        events = find_events(ctx.journal.log, EventFilter(env=ctx.env_name, step=BREAK_STEP))
    ours = [e for e in events if _broke(e, ctx.run_id)]
    if not ours:
        return ""
    event = ours[-1]
    return f"Broken by {event.get('actor')} at {event.get('ts')} (`opsctl lock release`, run {event.get('run')}). "


def _broke(event: dict[str, Any], run_id: str) -> bool:
    holder = event.get("holder")
    return isinstance(holder, dict) and holder.get("run") == run_id


def audit_failed(ctx: RunContext, exc: AuditLogError) -> OpsctlError:
    """The error for a run whose audit log stopped taking events (nothing more is journaled).

    Before any change (or in a dry run) it is ``exc`` itself (exit 2); once
    the platform may have changed, NeedsHuman naming its state and the resume.
    """
    if ctx.dry_run or (ctx.state.attempted is None and ctx.state.rollback_target is None):
        return exc
    env = ctx.env_name
    return NeedsHuman(
        f"cannot write the audit log ({str(exc).removeprefix('audit log ')}) after run {ctx.run_id} changed "
        f"{env}; stopped before anything else. The platform: {platform_state(ctx)}. Repair the log "
        f"(`opsctl audit verify` checks it), see `opsctl status {env}`, then continue with "
        f"`opsctl resume {ctx.run_id}`"
    )
