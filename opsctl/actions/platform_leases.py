"""Platform leases in the run journal: the driver reports them, a later run adopts what a killed one left.

A Fly machine lease can only be used or released by presenting its nonce, and a
run killed with -9 gives nothing back: its leases block the app until they
expire (``lease_ttl``, 15 minutes by default). So every lease a driver takes,
adopts or gives back is an audit event (step :data:`LEASE_STEP`, with the machine
id and the nonce; never the API token), and the next run of the environment
passes the ones never given back to the driver, which adopts them. That run
holds the environment's lock, so the run that took them is gone.
"""

from __future__ import annotations

from collections.abc import Callable

from opsctl.engine.context import RunContext
from opsctl.platforms.base import LEASE_GONE, LEASE_HELD

LEASE_STEP = "platform.leases"


def lease_journal(ctx: RunContext) -> Callable[[str, str, str], None]:
    """``on_lease`` for a rollout of this run: one audit event per lease taken, adopted or given back."""
    target = ctx.platform().describe()

    def record(status: str, machine: str, nonce: str) -> None:
        ctx.journal.event(LEASE_STEP, status, target=target, machine=machine, nonce=nonce)

    return record


def journaled_leases(ctx: RunContext) -> dict[str, str]:
    """Leases that runs of this environment took on its platform and never gave back: machine -> nonce."""
    from opsctl.audit.query import field_mark, read_events

    target = ctx.platform().describe()
    held: dict[str, str] = {}
    for event in read_events(ctx.journal.log.path, (field_mark("step", LEASE_STEP),)):
        if event.get("step") != LEASE_STEP or event.get("env") != ctx.env_name or event.get("target") != target:
            continue
        machine, nonce, status = str(event.get("machine")), str(event.get("nonce")), event.get("status")
        if status in LEASE_HELD:
            held[machine] = nonce
        elif status in LEASE_GONE and held.get(machine) == nonce:
            del held[machine]
    return held
