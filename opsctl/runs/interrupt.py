"""How a run stops without finishing, and stays resumable: Ctrl-C / SIGTERM, or a platform lock.

On an interrupt the order is fixed: the cancel event stops the step's workers,
the platform finishes or undoes the unit it was changing and gives its leases
back (:meth:`Platform.wind_down`), and only then is ``run interrupted``
journaled, so no worker event follows it. A ``Locked`` raised by a step (a
lease held by someone else) changed nothing, so it does not close the run
either: the run is journaled ``interrupted`` and `opsctl resume` continues it.
"""

from __future__ import annotations

import time

from opsctl.engine.context import RunContext
from opsctl.errors import Interrupted, Locked

# How long an interrupted run waits for the platform to put the change in flight in
# order; the driver bounds its own stop (Fly: 120 s), this only adds a margin.
WIND_DOWN_SECONDS = 150.0


def stop_platform(ctx: RunContext, seconds: float = WIND_DOWN_SECONDS) -> str | None:
    """Cancel the run's workers and wait for the platform's change in flight; what it did, if anything."""
    ctx.cancel.set()
    platform = ctx.platform_if_made()
    if platform is None:
        return None
    deadline = time.monotonic() + seconds
    while True:
        try:
            return platform.wind_down(max(0.0, deadline - time.monotonic()))
        except KeyboardInterrupt:
            # Another Ctrl-C or SIGTERM: leaving now would leave a machine half-updated.
            ctx.emit("message", message="stopping: still putting the platform back in order; please wait")


def journal_interrupted(ctx: RunContext, stopped: str | None) -> Interrupted:
    """Journal ``run interrupted`` (after :func:`stop_platform`) and return the error to raise."""
    where = f"; {stopped}" if stopped else ""
    ctx.journal.event("run", "interrupted", summary=f"interrupted by the user{where}; resume with `opsctl resume`")
    return Interrupted(
        f"interrupted{where}: run {ctx.run_id} is journaled; continue it with `opsctl resume {ctx.run_id}`"
    )


def journal_locked(ctx: RunContext, exc: Locked) -> Locked:
    """Journal a run stopped by someone else's lock as ``interrupted`` (resumable); the error to raise."""
    message = f"{exc}; the step changed nothing, and run {ctx.run_id} stays resumable: `opsctl resume {ctx.run_id}`"
    ctx.journal.event("run", "interrupted", summary=message, locked=True, release_before=ctx.state.previous)
    return Locked(message)
