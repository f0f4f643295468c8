"""Machine leases: take them all before changing anything, renew them, always give them back.

A Fly lease makes a machine refuse changes that do not carry its nonce, so two
deploys (or a deploy and a person with flyctl) cannot interleave on one app.

Every lease taken, adopted or given back is reported to ``on_lease`` (the run
journals it): a run killed with -9 cannot give its leases back, and the nonce
is the only way to use or release a lease before it expires. A later run of
the same environment passes those nonces back as ``journaled`` and adopts the
leases: it renews each with its nonce, as the Machines API lets the holder of a
nonce do. A lease someone else holds still raises Locked, naming them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opsctl.errors import Locked
from opsctl.platforms.fly_http import FlyAmbiguous, FlyApiError, FlyClient


@dataclass
class Lease:
    machine_id: str
    nonce: str
    taken_at: float


def _until(expires_at: Any) -> str:
    """Fly reports expiry as unix seconds; people read ISO-8601 UTC."""
    if isinstance(expires_at, int | float) and not isinstance(expires_at, bool):
        return datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(expires_at or "an unknown time")


class LeaseSet:
    """The leases one rollout holds, keyed by machine id.

    Use as a context manager: leaving the block (normally, on error, on
    KeyboardInterrupt) releases every lease taken.
    """

    def __init__(
        self,
        client: FlyClient,
        ttl: int,
        *,
        on_event: Callable[[str], None] = lambda _message: None,
        on_lease: Callable[[str, str, str], None] = lambda _status, _machine, _nonce: None,
        journaled: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.ttl = max(1, int(ttl))
        self._on_event = on_event
        self._on_lease = on_lease
        self._journaled = dict(journaled or {})
        self._clock = clock
        self.description = f"opsctl deploy {uuid.uuid4().hex[:12]}"
        self.held: dict[str, Lease] = {}
        self.release_errors: list[str] = []

    def __enter__(self) -> LeaseSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release_all()

    def nonce(self, machine_id: str) -> str:
        lease = self.held.get(machine_id)
        if lease is None:  # lost to someone else mid-rollout: the machine cannot be changed any more
            raise FlyApiError(f"opsctl no longer holds the lease on machine {machine_id}")
        return lease.nonce

    def acquire_all(self, machine_ids: list[str]) -> None:
        """Lease every machine, in order; on a conflict release what we took and raise Locked."""
        try:
            for machine_id in machine_ids:
                self._acquire(machine_id)
        except BaseException:
            self.release_all()
            raise

    def _acquire(self, machine_id: str) -> None:
        nonce = self._journaled.pop(machine_id, None)
        if nonce and self._adopt(machine_id, nonce):
            return
        try:
            response = self._client.acquire_lease(machine_id, self.ttl, self.description)
        except FlyAmbiguous:
            # The lease may exist with a nonce we never saw: read it back, and
            # adopt it only if it carries our description.
            lease = self._client.get_lease(machine_id) or {}
            if lease.get("description") != self.description or not lease.get("nonce"):
                raise
            self._hold(machine_id, str(lease["nonce"]))
            return
        if response.status_code == 409:
            raise self._locked(machine_id, response.json() if response.content else {})
        data = response.json().get("data") or {}
        if not data.get("nonce"):
            raise FlyApiError(f"Fly API granted a lease on machine {machine_id} without a nonce")
        self._hold(machine_id, str(data["nonce"]))

    def _adopt(self, machine_id: str, nonce: str) -> bool:
        """Take over the lease an earlier run journaled under ``nonce``; False when it has expired.

        Read first: what the API does with a nonce that no longer holds a lease
        is not part of its contract, and a lease that expired needs no adopting.
        """
        if self._client.get_lease(machine_id) is None:
            self._on_lease("expired", machine_id, nonce)
            return False
        response = self._client.acquire_lease(machine_id, self.ttl, self.description, nonce=nonce)
        if response.status_code == 409:
            # Our nonce no longer holds it: it expired and someone else leased the machine since.
            self._on_lease("lost", machine_id, nonce)
            raise self._locked(machine_id, response.json() if response.content else {})
        data = response.json().get("data") or {}
        held = str(data.get("nonce") or nonce)
        self.held[machine_id] = Lease(machine_id, held, self._clock())
        self._on_lease("adopted", machine_id, held)
        self._on_event(f"{machine_id}: adopted the lease a stopped run left; renewed for {self.ttl}s")
        return True

    def _hold(self, machine_id: str, nonce: str) -> None:
        self.held[machine_id] = Lease(machine_id, nonce, self._clock())
        self._on_lease("acquired", machine_id, nonce)
        self._on_event(f"{machine_id}: leased for {self.ttl}s")

    def _locked(self, machine_id: str, body: Any) -> Locked:
        try:
            lease = self._client.get_lease(machine_id) or {}
        except FlyApiError:
            lease = {}
        if not lease and isinstance(body, dict) and isinstance(body.get("data"), dict):
            lease = body["data"]
        owner = lease.get("owner") or "someone else"
        return Locked(
            f"fly machine {machine_id} of app {self._client.app} is leased by {owner} "
            f"until {_until(lease.get('expires_at'))}"
        )

    def renew_due(self) -> None:
        """Renew the leases older than half their ttl (called from the rollout's polling loops)."""
        now = self._clock()
        for lease in list(self.held.values()):
            if now - lease.taken_at < self.ttl / 2:
                continue
            try:
                response = self._client.acquire_lease(lease.machine_id, self.ttl, self.description, nonce=lease.nonce)
            except FlyApiError as exc:
                # Half the ttl is still left: try again at the next poll rather than abort.
                self._on_event(f"{lease.machine_id}: lease renewal failed ({exc}); retrying")
                continue
            if response.status_code == 409:
                # It expired and someone else leased the machine: it is no longer ours to renew or release.
                del self.held[lease.machine_id]
                self._on_lease("lost", lease.machine_id, lease.nonce)
                raise self._locked(lease.machine_id, response.json() if response.content else {})
            data = response.json().get("data") or {}
            renewed = str(data.get("nonce") or lease.nonce)
            if renewed != lease.nonce:  # journal the nonce that holds it now
                self._on_lease("acquired", lease.machine_id, renewed)
            lease.nonce = renewed
            lease.taken_at = now
            self._on_event(f"{lease.machine_id}: lease renewed for {self.ttl}s")

    def release_all(self) -> None:
        """Give every lease back; failures are recorded, never raised (the lease expires anyway)."""
        for machine_id, lease in list(self.held.items()):
            try:
                self._client.release_lease(machine_id, lease.nonce)
            except FlyApiError as exc:
                self.release_errors.append(f"{machine_id}: {exc}")
                self._on_event(f"{machine_id}: could not release lease ({exc}); it expires after {self.ttl}s")
            else:
                self._on_lease("released", machine_id, lease.nonce)
                self._on_event(f"{machine_id}: lease released")
            del self.held[machine_id]
