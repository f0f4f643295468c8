"""Machine leases: take them all before changing anything, renew them, always give them back.

A Fly lease makes a machine refuse changes that do not carry its nonce, so two
deploys (or a deploy and a person with flyctl) cannot interleave on one app.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.ttl = max(1, int(ttl))
        self._on_event = on_event
        self._clock = clock
        self.description = f"opsctl deploy {uuid.uuid4().hex[:12]}"
        self.held: dict[str, Lease] = {}
        self.release_errors: list[str] = []

    def __enter__(self) -> LeaseSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release_all()

    def nonce(self, machine_id: str) -> str:
        return self.held[machine_id].nonce

    def acquire_all(self, machine_ids: list[str]) -> None:
        """Lease every machine, in order; on a conflict release what we took and raise Locked."""
        try:
            for machine_id in machine_ids:
                self._acquire(machine_id)
        except BaseException:
            self.release_all()
            raise

    def _acquire(self, machine_id: str) -> None:
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

    def _hold(self, machine_id: str, nonce: str) -> None:
        self.held[machine_id] = Lease(machine_id, nonce, self._clock())
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
                raise self._locked(lease.machine_id, response.json() if response.content else {})
            data = response.json().get("data") or {}
            lease.nonce = str(data.get("nonce") or lease.nonce)
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
                self._on_event(f"{machine_id}: lease released")
            del self.held[machine_id]
