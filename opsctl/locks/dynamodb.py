"""The shared lock: one DynamoDB item per environment, so a whole team (and CI) takes turns.

Item (key ``lock_key`` = ``<service>/<env>``)::

    lock_key, service, env, lock_id, token, generation (N), run, actor, host, pid,
    runbook, created (ISO), expires_at (epoch seconds, N), purge_at (N), heartbeat (ISO)

* acquire: ``UpdateItem`` if the item is absent or its ``expires_at`` is in the
  past; the same write sets every holder field, a fresh random ``token`` and
  ``generation = generation + 1`` (the fencing token: it only grows). A failed
  condition returns the holder (``ALL_OLD``), named in the Locked error (exit 4).
  Expiry is *always* decided by ``expires_at``; DynamoDB's TTL (on
  ``purge_at``, a day later) only tidies items of holders that vanished, since
  TTL deletion may lag by days.
* heartbeat and :meth:`DynamoLockHandle.check`: push ``expires_at`` forward
  (``UpdateItem`` conditional on the acquisition's secret ``token``); a failed
  condition means the lock was broken or taken over.
* release: frees the item (``expires_at`` 0, no ``token``, no ``purge_at``)
  conditional on ``lock_id`` *and* ``token``: only the owner's acquisition can
  do it, and the item keeps its ``generation`` for the next holder.
  ``force_release`` frees it the same way but needs the exact ``lock_id``.

Every conditional call recognises its own earlier success, so botocore's
retries after a lost answer are harmless. Expiry compares the acquirer's clock
with the writer's: keep hosts NTP-synced (skew only shifts a takeover by the skew).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from opsctl.config import Locks
from opsctl.errors import BadInput
from opsctl.locks.base import FencingToken, LockBackend, LockHandle, LockInfo, iso
from opsctl.locks.dynamo_heartbeat import Heartbeat
from opsctl.locks.dynamo_setup import create_table, table_snippet
from opsctl.locks.dynamo_table import (
    GENERATION,
    KEY,
    PURGE_AFTER,
    TTL_ATTRIBUTE,
    LockTable,
    dynamodb_client,
    expired,
    info_of,
    is_conflict,
    number_value,
    text_value,
)

# The table plumbing lives in dynamo_table, `opsctl lock init` in dynamo_setup, the heartbeat thread in
# dynamo_heartbeat; callers keep importing these names from here.
__all__ = [
    "GENERATION",
    "KEY",
    "MAX_HEARTBEAT",
    "PURGE_AFTER",
    "TTL_ATTRIBUTE",
    "DynamoLockBackend",
    "DynamoLockHandle",
    "create_table",
    "table_snippet",
]

MAX_HEARTBEAT = 300.0


class DynamoLockHandle(LockHandle):
    """A held lock; its heartbeat runs until :meth:`release`. ``lost`` turns true if a heartbeat
    or :meth:`check` finds the lock broken or taken over (the run stops before its next change)."""

    backend: DynamoLockBackend

    def __init__(self, backend: DynamoLockBackend, info: LockInfo, token: FencingToken, interval: float) -> None:
        self.backend = backend
        self.info = info
        self.token = token
        self.lost = False
        self._released = False
        self._heartbeat = Heartbeat(
            lambda: backend.extend(info.env, token.id),
            clock=backend.clock,
            ttl=backend.config.ttl,
            interval=interval,
            on_lost=self._mark_lost,
            name=f"opsctl-lock-heartbeat-{info.env}",
        )

    def _mark_lost(self) -> None:
        self.lost = True

    def _still_ours(self) -> bool:
        return self._heartbeat.still_ours()

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._heartbeat.stop()
        self.backend.delete_own(self.info, self.token.id)


class DynamoLockBackend(LockBackend):
    """The shared lock over one DynamoDB table: acquire (or take over an expired lock), extend, release, break."""

    requires_lock_id = True

    def __init__(
        self,
        config: Locks,
        service: str,
        *,
        client: Any = None,
        clock: Callable[[], float] = time.time,
        heartbeat: float | None = None,
    ) -> None:
        self.config = config
        self.service = service
        self.clock = clock
        self.heartbeat = heartbeat if heartbeat is not None else min(config.ttl / 4, MAX_HEARTBEAT)
        self._client = client
        self._client_lock = threading.Lock()
        self.table = LockTable(config, service, lambda: self.client)

    @property
    def client(self) -> Any:
        """The boto3 DynamoDB client, made on first use (once, whichever thread asks first)."""
        with self._client_lock:
            if self._client is None:
                self._client = dynamodb_client(self.config)
            return self._client

    def acquire(self, info: LockInfo) -> LockHandle:
        token = secrets.token_hex(16)
        for _ in range(3):  # a holder that releases between our write and our read: try again
            now = self.clock()
            info = info.held(now + self.config.ttl, since=now)
            try:
                taken = self._take_if_free(self.table.lock_item(info, token, now), now)
            except Exception as exc:
                if not is_conflict(exc):
                    raise
                old = getattr(exc, "response", {}).get("Item") or self.table.get(info.env)
                if old is None or expired(old, now):
                    continue
                if old.get("token", {}).get("S") != token:
                    raise info_of(old).locked_error() from None
                taken = old  # our own write landed and botocore re-sent it after a lost answer
            fencing = FencingToken(token, int(float(taken.get(GENERATION, {}).get("N", "0"))))
            return DynamoLockHandle(self, info, fencing, self.heartbeat)
        raise BadInput(f"{info.env}'s lock changed hands three times while we tried to take it; try again")

    def _take_if_free(self, item: dict[str, Any], now: float) -> dict[str, Any]:
        """Write ``item``'s fields and the next generation if the lock is free; the item as written."""
        fields = {name: value for name, value in item.items() if name != KEY}
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":f{i}": value for i, value in enumerate(fields.values())}
        assignments = ", ".join(f"{name} = :f{i}" for i, name in enumerate(names))
        answer = self.table.update(
            str(item["env"]["S"]),
            "taking the deploy lock",
            UpdateExpression=f"SET {assignments}, #gen = if_not_exists(#gen, :zero) + :one",
            ConditionExpression="attribute_not_exists(#k) OR #exp < :now",
            ExpressionAttributeNames={**names, "#k": KEY, "#exp": "expires_at", "#gen": GENERATION},
            ExpressionAttributeValues={**values, ":now": number_value(now), ":zero": {"N": "0"}, ":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        attributes: dict[str, Any] = answer.get("Attributes") or {}
        return attributes

    def extend(self, env: str, token: str) -> bool:
        """Push ``expires_at`` one TTL ahead; False when the lock is no longer this acquisition's."""
        now = self.clock()
        try:
            self.table.update(
                env,
                "extending the deploy lock",
                UpdateExpression="SET #exp = :exp, #purge = :purge, #beat = :beat",
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={
                    "#exp": "expires_at",
                    "#purge": TTL_ATTRIBUTE,
                    "#beat": "heartbeat",
                    "#token": "token",
                },
                ExpressionAttributeValues={
                    ":exp": number_value(now + self.config.ttl),
                    ":purge": number_value(now + self.config.ttl + PURGE_AFTER),
                    ":beat": text_value(iso(now)),
                    ":token": text_value(token),
                },
            )
        except Exception as exc:
            if is_conflict(exc):
                return False
            raise
        return True

    def delete_own(self, info: LockInfo, token: str) -> None:
        """The owner's release: a no-op when the lock was already broken or taken over."""
        try:
            self._free(
                info.env,
                "releasing the deploy lock",
                "#id = :id AND #token = :token",
                {":id": text_value(info.lock_id), ":token": text_value(token)},
            )
        except Exception as exc:
            if not is_conflict(exc):
                raise

    def _free(self, env: str, what: str, condition: str, values: dict[str, Any]) -> dict[str, Any]:
        """Free the lock if ``condition`` holds, keeping the item (and its generation); the item before."""
        answer = self.table.update(
            env,
            what,
            UpdateExpression="SET #exp = :free, #beat = :now REMOVE #token, #purge",
            ConditionExpression=condition,
            ExpressionAttributeNames={
                "#id": "lock_id",
                "#token": "token",
                "#exp": "expires_at",
                "#beat": "heartbeat",
                "#purge": TTL_ATTRIBUTE,
            },
            ExpressionAttributeValues={**values, ":free": number_value(0), ":now": text_value(iso(self.clock()))},
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        old: dict[str, Any] = answer.get("Attributes") or {}
        return old

    def status(self, env: str) -> LockInfo | None:
        item = self.table.get(env)
        if item is None or expired(item, self.clock()):
            return None  # an expired or released item is a free lock, whatever DynamoDB's TTL has done yet
        return info_of(item)

    def force_release(self, env: str, lock_id: str | None) -> LockInfo | None:
        """Free the lock only if it is still ``lock_id``: a lock re-taken meanwhile survives."""
        if not lock_id:
            raise BadInput(
                f"breaking {env}'s shared lock needs --id LOCK_ID, exactly as `opsctl lock status {env}` shows it"
            )
        try:
            old = self._free(
                env, "breaking the deploy lock", "#id = :id AND attribute_exists(#token)", {":id": text_value(lock_id)}
            )
        except Exception as exc:
            if not is_conflict(exc):
                raise
            held = getattr(exc, "response", {}).get("Item")
            if held is None or "token" not in held:
                return None  # free already (released, or broken by someone else first)
            raise BadInput(
                f"--id {lock_id} does not match the lock held ({info_of(held).lock_id}); nothing was released"
            ) from None
        return info_of(old) if old else None
