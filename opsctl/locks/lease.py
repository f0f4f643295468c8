"""The Kubernetes lock: one ``coordination.k8s.io/v1`` Lease per environment, so a team on a cluster takes turns.

Lease ``opsctl-<service>-<env>`` in ``locks.namespace``::

    spec: holderIdentity ("<run> <actor>"), leaseDurationSeconds (locks.ttl),
          acquireTime, renewTime, leaseTransitions
    metadata.annotations: opsctl.dev/{run, actor, runbook, lock-id, host, pid, since, token, generation, env}

Same semantics as the DynamoDB lock (:mod:`opsctl.locks.dynamodb`):

* acquire: create the Lease, or take it over when it is free (no holder) or
  expired (``renewTime + leaseDurationSeconds`` in the past), by a PUT carrying
  the ``resourceVersion`` we read: the API server answers 409 Conflict if anyone
  wrote it since, so two runs can never both win. The ``generation``
  annotation grows by one at every acquisition (the fencing token). A live
  holder is named in the Locked error (exit 4).
* heartbeat and :meth:`LeaseLockHandle.check`: renew ``renewTime`` with the
  same compare-and-swap, only while the Lease still carries our ``token``;
  otherwise the lock was broken or taken over and the run stops before its
  next change.
* release: free the Lease (no holder, no token), keeping its generation.
  ``force_release`` does the same for the exact ``lock_id`` only, and the CLI
  audits it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from opsctl.config import Locks
from opsctl.errors import BadInput, OpsctlError
from opsctl.locks.base import FencingToken, LockBackend, LockHandle, LockInfo, iso

if TYPE_CHECKING:
    from opsctl.platforms.kube.api import KubeApi

MAX_HEARTBEAT = 300.0
PREFIX = "opsctl.dev/"
_FIELDS = ("run", "actor", "runbook", "lock-id", "host", "pid", "since", "env")
_ATTEMPTS = 3


def _micro(epoch: float) -> str:
    """A Kubernetes MicroTime: ``2026-11-30T10:15:00.123456Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _epoch(text: object) -> float:
    if not text:
        return 0.0
    raw = str(text).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(raw).timestamp()
    except ValueError:
        return 0.0


def lease_name(service: str, env: str) -> str:
    """A DNS-1123 name for the environment's Lease; names that had to change get a short hash (never collide)."""
    raw = f"opsctl-{service}-{env}"
    clean = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")[:50]
    if clean != raw:
        clean = f"{clean}-{hashlib.sha256(raw.encode()).hexdigest()[:8]}"
    return clean


def _annotations(lease: dict[str, Any]) -> dict[str, str]:
    return dict((lease.get("metadata") or {}).get("annotations") or {})


def _token(lease: dict[str, Any]) -> str | None:
    return _annotations(lease).get(PREFIX + "token")


def _generation(lease: dict[str, Any]) -> int:
    try:
        return int(_annotations(lease).get(PREFIX + "generation", "0"))
    except ValueError:
        return 0


def _expires(lease: dict[str, Any]) -> float:
    spec = lease.get("spec") or {}
    return _epoch(spec.get("renewTime") or spec.get("acquireTime")) + float(spec.get("leaseDurationSeconds") or 0)


def _free(lease: dict[str, Any], now: float) -> bool:
    """Released, broken or timed out: free for the next acquisition."""
    return not (lease.get("spec") or {}).get("holderIdentity") or not _token(lease) or _expires(lease) < now


def _info_of(lease: dict[str, Any]) -> LockInfo:
    notes = _annotations(lease)

    def text(name: str) -> str:
        return str(notes.get(PREFIX + name, "?"))

    try:
        pid = int(notes.get(PREFIX + "pid", "0"))
    except ValueError:
        pid = 0
    return LockInfo(
        text("env"),
        text("run"),
        text("actor"),
        text("runbook"),
        text("lock-id"),
        text("host"),
        pid,
        text("since"),
        iso(_expires(lease)),
    )


class LeaseLockHandle(LockHandle):
    """A held Lease; its heartbeat renews it until :meth:`release`. ``lost`` turns true once it is not ours."""

    backend: LeaseLockBackend

    def __init__(self, backend: LeaseLockBackend, info: LockInfo, token: FencingToken, interval: float) -> None:
        self.backend = backend
        self.info = info
        self.token = token
        self.lost = False
        self._confirmed_until = backend.clock() + backend.config.ttl
        self._stop = threading.Event()
        self._released = False
        self._thread = threading.Thread(
            target=self._beat, args=(interval,), daemon=True, name=f"opsctl-lease-heartbeat-{info.env}"
        )
        self._thread.start()

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                still_ours = self._renew()
            except Exception:  # noqa: S112 - a transient error: the lease holds until it expires; try again
                continue
            if not still_ours:
                self.lost = True
                return

    def _renew(self) -> bool:
        now = self.backend.clock()
        ours = self.backend.renew(self.info.env, self.token.id)
        if ours:
            self._confirmed_until = now + self.backend.config.ttl
        return ours

    def _still_ours(self) -> bool:
        """A renewal, now: it both checks the token and pushes the expiry ahead."""
        try:
            return self._renew()
        except OpsctlError:
            # The API server did not answer. Until our last confirmed renewal runs out nobody can take
            # the Lease over; after it someone may have: stop rather than change things unfenced.
            return self.backend.clock() < self._confirmed_until

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._stop.set()
        self._thread.join(timeout=30)
        self.backend.free(self.info.env, lambda lease: _token(lease) == self.token.id)


class LeaseLockBackend(LockBackend):
    """Leases in ``locks.namespace``, reached like the platform (``locks.kubeconfig``, ``locks.context``)."""

    requires_lock_id = True

    def __init__(
        self,
        config: Locks,
        service: str,
        *,
        api: KubeApi | None = None,
        clock: Callable[[], float] = time.time,
        heartbeat: float | None = None,
    ) -> None:
        if not config.namespace:
            raise BadInput("locks.backend kubernetes needs locks.namespace: the namespace of the Lease objects")
        self.config = config
        self.namespace = config.namespace
        self.service = service
        self.clock = clock
        self.heartbeat = heartbeat if heartbeat is not None else max(1.0, min(config.ttl / 4, MAX_HEARTBEAT))
        self._api = api
        self._api_lock = threading.Lock()

    @property
    def api(self) -> KubeApi:
        """The :class:`~opsctl.platforms.kube.api.KubeApi`, connected on first use."""
        with self._api_lock:
            if self._api is None:
                from opsctl.platforms.kube.api import KubeApi
                from opsctl.platforms.kube.client import connect

                self._api = KubeApi(connect(self.config.kubeconfig, self.config.context, section="locks"))
            return self._api

    def _name(self, env: str) -> str:
        return lease_name(self.service, env)

    def _body(
        self, info: LockInfo, token: str, generation: int, now: float, old: dict[str, Any] | None
    ) -> dict[str, Any]:
        values = (info.run, info.actor, info.runbook, info.lock_id, info.host, str(info.pid), info.since, info.env)
        notes = {PREFIX + key: str(value) for key, value in zip(_FIELDS, values, strict=True)}
        notes.update({PREFIX + "token": token, PREFIX + "generation": str(generation)})
        metadata: dict[str, Any] = {
            "name": self._name(info.env),
            "namespace": self.namespace,
            "labels": {"app.kubernetes.io/managed-by": "opsctl"},
            "annotations": notes,
        }
        transitions = 0
        if old is not None:
            metadata["resourceVersion"] = (old.get("metadata") or {}).get("resourceVersion")
            transitions = int((old.get("spec") or {}).get("leaseTransitions") or 0) + 1
        spec = {
            "holderIdentity": f"{info.run} {info.actor}",
            "leaseDurationSeconds": max(1, int(self.config.ttl)),
            "acquireTime": _micro(now),
            "renewTime": _micro(now),
            "leaseTransitions": transitions,
        }
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec}

    def acquire(self, info: LockInfo) -> LockHandle:
        from opsctl.platforms.kube.api import KubeError

        token = secrets.token_hex(16)
        for _ in range(_ATTEMPTS):  # someone wrote the Lease between our read and our write: look again
            now = self.clock()
            old = self.api.lease(self.namespace, self._name(info.env))
            if old is not None and not _free(old, now):
                raise _info_of(old).locked_error()
            generation = (_generation(old) if old else 0) + 1
            body = self._body(info, token, generation, now, old)
            try:
                if old is None:
                    self.api.create_lease(self.namespace, body)
                else:
                    self.api.replace_lease(self.namespace, body["metadata"]["name"], body)
            except KubeError as exc:
                if exc.status == 409:
                    continue
                raise BadInput(f"cannot take {info.env}'s Lease in namespace {self.namespace}: {exc.message}") from None
            held = info.held(now + self.config.ttl)
            return LeaseLockHandle(self, held, FencingToken(token, generation), self.heartbeat)
        raise BadInput(f"{info.env}'s lock changed hands three times while we tried to take it; try again")

    def renew(self, env: str, token: str) -> bool:
        """Push ``renewTime`` to now; False when the Lease is no longer this acquisition's."""
        from opsctl.platforms.kube.api import KubeError

        for _ in range(_ATTEMPTS):
            lease = self.api.lease(self.namespace, self._name(env))
            if lease is None or _token(lease) != token:
                return False
            lease.setdefault("spec", {})["renewTime"] = _micro(self.clock())
            try:
                self.api.replace_lease(self.namespace, self._name(env), lease)
            except KubeError as exc:
                if exc.status != 409:
                    raise
                continue  # written in between (by whom? the next read says)
            return True
        return False

    def free(self, env: str, ours: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """Free the Lease if ``ours(lease)`` still holds, by compare-and-swap; the Lease as it was, or None."""
        from opsctl.platforms.kube.api import KubeError

        for _ in range(_ATTEMPTS):
            lease = self.api.lease(self.namespace, self._name(env))
            if lease is None or not _token(lease) or not ours(lease):
                return None
            freed = {**lease, "spec": {**(lease.get("spec") or {}), "holderIdentity": None}}
            notes = {k: v for k, v in _annotations(lease).items() if k != PREFIX + "token"}
            freed["metadata"] = {**(lease.get("metadata") or {}), "annotations": notes}
            try:
                self.api.replace_lease(self.namespace, self._name(env), freed)
            except KubeError as exc:
                if exc.status != 409:
                    raise
                continue
            return lease
        raise BadInput(
            f"{env}'s Lease kept changing while we tried to free it; look again with `opsctl lock status {env}`"
        )

    def status(self, env: str) -> LockInfo | None:
        lease = self.api.lease(self.namespace, self._name(env))
        if lease is None or _free(lease, self.clock()):
            return None
        return _info_of(lease)

    def force_release(self, env: str, lock_id: str | None) -> LockInfo | None:
        """Free the Lease only if it is still ``lock_id``'s: a lock re-taken meanwhile survives."""
        if not lock_id:
            raise BadInput(
                f"breaking {env}'s shared lock needs --id LOCK_ID, exactly as `opsctl lock status {env}` shows it"
            )
        lease = self.api.lease(self.namespace, self._name(env))
        if lease is None or not _token(lease):
            return None
        held = _info_of(lease)
        if held.lock_id != lock_id:
            raise BadInput(f"--id {lock_id} does not match the lock held ({held.lock_id}); nothing was released")
        old = self.free(env, lambda now: _info_of(now).lock_id == lock_id)
        return _info_of(old) if old else None
