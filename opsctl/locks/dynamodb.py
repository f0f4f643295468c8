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
from datetime import UTC, datetime
from typing import Any

from opsctl.aws.client import aws_client
from opsctl.aws.errors import aws_problem, error_code
from opsctl.config import Locks
from opsctl.errors import BadInput, OpsctlError
from opsctl.locks.base import FencingToken, LockBackend, LockHandle, LockInfo, holder_of

KEY = "lock_key"
TTL_ATTRIBUTE = "purge_at"
PURGE_AFTER = 86400.0  # DynamoDB TTL may delete an item up to days after this; only tidiness depends on it
MAX_HEARTBEAT = 300.0
GENERATION = "generation"
_CONFLICT = "ConditionalCheckFailedException"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _s(value: object) -> dict[str, str]:
    return {"S": str(value)}


def _n(value: float) -> dict[str, str]:
    return {"N": f"{value:.3f}"}


class DynamoLockHandle(LockHandle):
    """A held lock; its heartbeat runs until :meth:`release`. ``lost`` turns true if a heartbeat
    or :meth:`check` finds the lock broken or taken over (the run stops before its next change)."""

    def __init__(self, backend: DynamoLockBackend, info: LockInfo, token: FencingToken, interval: float) -> None:
        self.backend = backend
        self.info = info
        self.token = token
        self.lost = False
        # Until when the store is known to hold our lock (its expires_at at our last confirmed write).
        self._confirmed_until = backend.clock() + backend.config.ttl
        self._stop = threading.Event()
        self._released = False
        self._thread = threading.Thread(
            target=self._beat, args=(interval,), daemon=True, name=f"opsctl-lock-heartbeat-{info.env}"
        )
        self._thread.start()

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                still_ours = self._extend()
            except Exception:  # noqa: S112 - a transient error: the lock holds until expires_at; try again
                continue
            if not still_ours:
                self.lost = True
                return

    def _extend(self) -> bool:
        now = self.backend.clock()
        ours = self.backend.extend(self.info.env, self.token.id)
        if ours:
            self._confirmed_until = now + self.backend.config.ttl
        return ours

    def _still_ours(self) -> bool:
        """The heartbeat's conditional write, now: it both checks the token and pushes expiry ahead."""
        try:
            return self._extend()
        except OpsctlError:
            # DynamoDB did not answer. Until our last confirmed expiry nobody can take the lock over;
            # after it, someone may have: stop rather than change things unfenced.
            return self.backend.clock() < self._confirmed_until

    def _holder_now(self) -> LockInfo | None:
        return holder_of(self.backend, self.info.env)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._stop.set()
        self._thread.join(timeout=30)
        self.backend.delete_own(self.info, self.token.id)


class DynamoLockBackend(LockBackend):
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

    @property
    def client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                self._client = aws_client("dynamodb", region=self.config.region, endpoint_url=self.config.endpoint_url)
            return self._client

    def _key(self, env: str) -> dict[str, Any]:
        return {KEY: _s(f"{self.service}/{env}")}

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        """Run a DynamoDB call; a failed condition propagates, anything else becomes one clear line."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except (BotoCoreError, ClientError) as exc:
            if error_code(exc) == _CONFLICT:
                raise
            if error_code(exc) == "ResourceNotFoundException":
                raise BadInput(
                    f"DynamoDB table {self.config.table} not found; create it with `opsctl lock init` "
                    "(or `opsctl lock init --print` for CloudFormation)"
                ) from None
            raise aws_problem(exc, f"{what} (table {self.config.table})", "DynamoDB") from None

    def acquire(self, info: LockInfo) -> LockHandle:
        token = secrets.token_hex(16)
        for _ in range(3):  # a holder that releases between our write and our read: try again
            now = self.clock()
            info = LockInfo(
                info.env,
                info.run,
                info.actor,
                info.runbook,
                info.lock_id,
                info.host,
                info.pid,
                _iso(now),
                _iso(now + self.config.ttl),
            )
            try:
                taken = self._take_if_free(self._item(info, token, now), now)
            except Exception as exc:
                if error_code(exc) != _CONFLICT:
                    raise
                old = getattr(exc, "response", {}).get("Item") or self._get(info.env)
                if old is None or _expired(old, now):
                    continue
                if old.get("token", {}).get("S") != token:
                    raise _info_of(old).locked_error() from None
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
        answer = self._call(
            "taking the deploy lock",
            lambda: self.client.update_item(
                TableName=self.config.table,
                Key=self._key(str(item["env"]["S"])),
                UpdateExpression=f"SET {assignments}, #gen = if_not_exists(#gen, :zero) + :one",
                ConditionExpression="attribute_not_exists(#k) OR #exp < :now",
                ExpressionAttributeNames={**names, "#k": KEY, "#exp": "expires_at", "#gen": GENERATION},
                ExpressionAttributeValues={**values, ":now": _n(now), ":zero": {"N": "0"}, ":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ),
        )
        attributes: dict[str, Any] = answer.get("Attributes") or {}
        return attributes

    def _item(self, info: LockInfo, token: str, now: float) -> dict[str, Any]:
        expires = now + self.config.ttl
        return {
            **self._key(info.env),
            "service": _s(self.service),
            "env": _s(info.env),
            "lock_id": _s(info.lock_id),
            "token": _s(token),
            "run": _s(info.run),
            "actor": _s(info.actor),
            "host": _s(info.host),
            "pid": _n(info.pid),
            "runbook": _s(info.runbook),
            "created": _s(info.since),
            "expires_at": _n(expires),
            TTL_ATTRIBUTE: _n(expires + PURGE_AFTER),
            "heartbeat": _s(_iso(now)),
        }

    def _get(self, env: str) -> dict[str, Any] | None:
        answer = self._call(
            "reading the deploy lock",
            lambda: self.client.get_item(TableName=self.config.table, Key=self._key(env), ConsistentRead=True),
        )
        item: dict[str, Any] | None = answer.get("Item")
        return item

    def extend(self, env: str, token: str) -> bool:
        """Push ``expires_at`` one TTL ahead; False when the lock is no longer this acquisition's."""
        now = self.clock()
        try:
            self._call(
                "extending the deploy lock",
                lambda: self.client.update_item(
                    TableName=self.config.table,
                    Key=self._key(env),
                    UpdateExpression="SET #exp = :exp, #purge = :purge, #beat = :beat",
                    ConditionExpression="#token = :token",
                    ExpressionAttributeNames={
                        "#exp": "expires_at",
                        "#purge": TTL_ATTRIBUTE,
                        "#beat": "heartbeat",
                        "#token": "token",
                    },
                    ExpressionAttributeValues={
                        ":exp": _n(now + self.config.ttl),
                        ":purge": _n(now + self.config.ttl + PURGE_AFTER),
                        ":beat": _s(_iso(now)),
                        ":token": _s(token),
                    },
                ),
            )
        except Exception as exc:
            if error_code(exc) == _CONFLICT:
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
                {":id": _s(info.lock_id), ":token": _s(token)},
            )
        except Exception as exc:
            if error_code(exc) != _CONFLICT:
                raise

    def _free(self, env: str, what: str, condition: str, values: dict[str, Any]) -> dict[str, Any]:
        """Free the lock if ``condition`` holds, keeping the item (and its generation); the item before."""
        answer = self._call(
            what,
            lambda: self.client.update_item(
                TableName=self.config.table,
                Key=self._key(env),
                UpdateExpression="SET #exp = :free, #beat = :now REMOVE #token, #purge",
                ConditionExpression=condition,
                ExpressionAttributeNames={
                    "#id": "lock_id",
                    "#token": "token",
                    "#exp": "expires_at",
                    "#beat": "heartbeat",
                    "#purge": TTL_ATTRIBUTE,
                },
                ExpressionAttributeValues={**values, ":free": _n(0), ":now": _s(_iso(self.clock()))},
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ),
        )
        old: dict[str, Any] = answer.get("Attributes") or {}
        return old

    def status(self, env: str) -> LockInfo | None:
        item = self._get(env)
        if item is None or _expired(item, self.clock()):
            return None  # an expired or released item is a free lock, whatever DynamoDB's TTL has done yet
        return _info_of(item)

    def force_release(self, env: str, lock_id: str | None) -> LockInfo | None:
        """Free the lock only if it is still ``lock_id``: a lock re-taken meanwhile survives."""
        if not lock_id:
            raise BadInput(
                f"breaking {env}'s shared lock needs --id LOCK_ID, exactly as `opsctl lock status {env}` shows it"
            )
        try:
            old = self._free(
                env, "breaking the deploy lock", "#id = :id AND attribute_exists(#token)", {":id": _s(lock_id)}
            )
        except Exception as exc:
            if error_code(exc) != _CONFLICT:
                raise
            held = getattr(exc, "response", {}).get("Item")
            if held is None or "token" not in held:
                return None  # free already (released, or broken by someone else first)
            raise BadInput(
                f"--id {lock_id} does not match the lock held ({_info_of(held).lock_id}); nothing was released"
            ) from None
        return _info_of(old) if old else None


def _expired(item: dict[str, Any], now: float) -> bool:
    """A released, broken or timed-out lock: free for the next acquisition."""
    return "token" not in item or float(item.get("expires_at", {}).get("N", "0")) < now


def _info_of(item: dict[str, Any]) -> LockInfo:
    def text(name: str) -> str:
        return str(item.get(name, {}).get("S", "?"))

    pid = int(float(item.get("pid", {}).get("N", "0")))
    expires = _iso(float(item["expires_at"]["N"])) if "expires_at" in item else None
    return LockInfo(
        text("env"),
        text("run"),
        text("actor"),
        text("runbook"),
        text("lock_id"),
        text("host"),
        pid,
        text("created"),
        expires,
    )


def create_table(config: Locks) -> str:
    """``opsctl lock init``: create the table (on demand billing) and turn on TTL; says what it did."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = aws_client("dynamodb", region=config.region, endpoint_url=config.endpoint_url)
    try:
        try:
            client.create_table(
                TableName=config.table,
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
            )
            done = f"created DynamoDB table {config.table}"
        except ClientError as exc:
            if error_code(exc) != "ResourceInUseException":
                raise
            done = f"DynamoDB table {config.table} already exists"
        client.get_waiter("table_exists").wait(TableName=config.table, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
        ttl = client.describe_time_to_live(TableName=config.table)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            client.update_time_to_live(
                TableName=config.table, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
            )
    except (BotoCoreError, ClientError) as exc:
        raise aws_problem(exc, f"creating table {config.table}", "DynamoDB") from None
    return f"{done}; TTL on {TTL_ATTRIBUTE} tidies old items (expiry itself is decided by expires_at)"


def table_snippet(config: Locks) -> str:
    """CloudFormation for the table, and the IAM statement opsctl's users need on it."""
    return f"""\
# CloudFormation: the opsctl deploy lock table
Resources:
  OpsctlLocks:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: {config.table}
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {{AttributeName: {KEY}, AttributeType: S}}
      KeySchema:
        - {{AttributeName: {KEY}, KeyType: HASH}}
      TimeToLiveSpecification: {{AttributeName: {TTL_ATTRIBUTE}, Enabled: true}}
      PointInTimeRecoverySpecification: {{PointInTimeRecoveryEnabled: true}}
# IAM policy statement for every opsctl user and CI role
#   - Effect: Allow
#     Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem]
#     Resource: !GetAtt OpsctlLocks.Arn
"""
