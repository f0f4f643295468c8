"""The shared lock: one DynamoDB item per environment, so a whole team (and CI) takes turns.

Item (key ``lock_key`` = ``<service>/<env>``)::

    lock_key, service, env, lock_id, token, run, actor, host, pid, runbook,
    created (ISO), expires_at (epoch seconds, N), purge_at (N), heartbeat (ISO)

* acquire: ``PutItem`` if the item is absent or its ``expires_at`` is in the
  past. A failed condition returns the holder (``ALL_OLD``), named in the
  Locked error (exit 4). Expiry is *always* decided by ``expires_at``;
  DynamoDB's TTL (on ``purge_at``, a day later) only tidies old items, since
  TTL deletion may lag by days.
* heartbeat: while the run lives, a thread pushes ``expires_at`` forward
  (``UpdateItem`` conditional on the acquisition's secret ``token``).
* release: ``DeleteItem`` conditional on ``lock_id`` *and* ``token``: only the
  owner's acquisition can do it. ``force_release`` needs the exact ``lock_id``.

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
from opsctl.errors import BadInput
from opsctl.locks.base import LockBackend, LockHandle, LockInfo

KEY = "lock_key"
TTL_ATTRIBUTE = "purge_at"
PURGE_AFTER = 86400.0  # DynamoDB TTL may delete an item up to days after this; only tidiness depends on it
MAX_HEARTBEAT = 300.0
_CONFLICT = "ConditionalCheckFailedException"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _s(value: object) -> dict[str, str]:
    return {"S": str(value)}


def _n(value: float) -> dict[str, str]:
    return {"N": f"{value:.3f}"}


class DynamoLockHandle(LockHandle):
    """A held lock; its heartbeat runs until :meth:`release`. ``lost`` turns true if
    a heartbeat finds the lock broken or taken over (the run itself is not stopped)."""

    def __init__(self, backend: DynamoLockBackend, info: LockInfo, token: str, interval: float) -> None:
        self.backend = backend
        self.info = info
        self.token = token
        self.lost = False
        self._stop = threading.Event()
        self._released = False
        self._thread = threading.Thread(
            target=self._beat, args=(interval,), daemon=True, name=f"opsctl-lock-heartbeat-{info.env}"
        )
        self._thread.start()

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                still_ours = self.backend.extend(self.info.env, self.token)
            except Exception:  # noqa: S112 - a transient error: the lock holds until expires_at; try again
                continue
            if not still_ours:
                self.lost = True
                return

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._stop.set()
        self._thread.join(timeout=30)
        self.backend.delete_own(self.info, self.token)


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
        for _ in range(3):  # a holder that releases between our put and our read: try again
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
                self._put_if_free(self._item(info, token, now), now)
            except Exception as exc:
                if error_code(exc) != _CONFLICT:
                    raise
                old = getattr(exc, "response", {}).get("Item") or self._get(info.env)
                if old is None:
                    continue
                if old.get("token", {}).get("S") != token:
                    raise _info_of(old).locked_error() from None
                # Our own put landed and botocore re-sent it after a lost answer.
            return DynamoLockHandle(self, info, token, self.heartbeat)
        raise BadInput(f"{info.env}'s lock changed hands three times while we tried to take it; try again")

    def _put_if_free(self, item: dict[str, Any], now: float) -> None:
        self._call(
            "taking the deploy lock",
            lambda: self.client.put_item(
                TableName=self.config.table,
                Item=item,
                ConditionExpression="attribute_not_exists(#k) OR #exp < :now",
                ExpressionAttributeNames={"#k": KEY, "#exp": "expires_at"},
                ExpressionAttributeValues={":now": _n(now)},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ),
        )

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
            self._call(
                "releasing the deploy lock",
                lambda: self.client.delete_item(
                    TableName=self.config.table,
                    Key=self._key(info.env),
                    ConditionExpression="#id = :id AND #token = :token",
                    ExpressionAttributeNames={"#id": "lock_id", "#token": "token"},
                    ExpressionAttributeValues={":id": _s(info.lock_id), ":token": _s(token)},
                ),
            )
        except Exception as exc:
            if error_code(exc) != _CONFLICT:
                raise

    def status(self, env: str) -> LockInfo | None:
        item = self._get(env)
        if item is None or float(item["expires_at"]["N"]) < self.clock():
            return None  # an expired item is a free lock, whatever DynamoDB's TTL has done yet
        return _info_of(item)

    def force_release(self, env: str, lock_id: str | None) -> LockInfo | None:
        """Delete the lock only if it is still ``lock_id``: a lock re-taken meanwhile survives."""
        if not lock_id:
            raise BadInput(
                f"breaking {env}'s shared lock needs --id LOCK_ID, exactly as `opsctl lock status {env}` shows it"
            )
        try:
            answer = self._call(
                "breaking the deploy lock",
                lambda: self.client.delete_item(
                    TableName=self.config.table,
                    Key=self._key(env),
                    ConditionExpression="#id = :id",
                    ExpressionAttributeNames={"#id": "lock_id"},
                    ExpressionAttributeValues={":id": _s(lock_id)},
                    ReturnValues="ALL_OLD",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ),
            )
        except Exception as exc:
            if error_code(exc) != _CONFLICT:
                raise
            held = getattr(exc, "response", {}).get("Item")
            if held is None:
                return None
            raise BadInput(
                f"--id {lock_id} does not match the lock held ({_info_of(held).lock_id}); nothing was released"
            ) from None
        old = answer.get("Attributes")
        return _info_of(old) if old else None


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
