"""The DynamoDB lock table's plumbing: its client, the lock item's attributes, and AWS errors as one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opsctl.aws.client import aws_client
from opsctl.aws.errors import aws_problem, error_code
from opsctl.config import Locks
from opsctl.errors import BadInput
from opsctl.locks.base import LockInfo, iso

KEY = "lock_key"
TTL_ATTRIBUTE = "purge_at"
PURGE_AFTER = 86400.0  # DynamoDB TTL may delete an item up to days after this; only tidiness depends on it
GENERATION = "generation"
CONFLICT = "ConditionalCheckFailedException"


def text_value(value: object) -> dict[str, str]:
    """A DynamoDB string attribute."""
    return {"S": str(value)}


def number_value(value: float) -> dict[str, str]:
    """A DynamoDB number attribute (millisecond precision is plenty for expiry)."""
    return {"N": f"{value:.3f}"}


def is_conflict(exc: BaseException) -> bool:
    """A conditional write whose condition did not hold (the lock is someone else's, or free)."""
    return error_code(exc) == CONFLICT


def dynamodb_client(config: Locks) -> Any:
    """The boto3 DynamoDB client of the lock table's region and endpoint."""
    return aws_client("dynamodb", region=config.region, endpoint_url=config.endpoint_url)


class LockTable:
    """One lock table's calls, through the client ``client()`` returns at each call (its owner may swap it)."""

    def __init__(self, config: Locks, service: str, client: Callable[[], Any]) -> None:
        self.config = config
        self.service = service
        self._client = client

    @property
    def client(self) -> Any:
        return self._client()

    def key(self, env: str) -> dict[str, Any]:
        return {KEY: text_value(f"{self.service}/{env}")}

    def call(self, what: str, call: Callable[[], Any]) -> Any:
        """Run a DynamoDB call; a failed condition propagates, anything else becomes one clear line."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except (BotoCoreError, ClientError) as exc:
            if is_conflict(exc):
                raise
            if error_code(exc) == "ResourceNotFoundException":
                raise BadInput(
                    f"DynamoDB table {self.config.table} not found; create it with `opsctl lock init` "
                    "(or `opsctl lock init --print` for CloudFormation)"
                ) from None
            raise aws_problem(exc, f"{what} (table {self.config.table})", "DynamoDB") from None

    def update(self, env: str, what: str, **arguments: Any) -> Any:
        """``UpdateItem`` on ``env``'s lock item (see :meth:`call`)."""
        return self.call(
            what, lambda: self.client.update_item(TableName=self.config.table, Key=self.key(env), **arguments)
        )

    def get(self, env: str) -> dict[str, Any] | None:
        """``env``'s lock item, read consistently; None when there is none."""
        answer = self.call(
            "reading the deploy lock",
            lambda: self.client.get_item(TableName=self.config.table, Key=self.key(env), ConsistentRead=True),
        )
        item: dict[str, Any] | None = answer.get("Item")
        return item

    def lock_item(self, info: LockInfo, token: str, now: float) -> dict[str, Any]:
        """The item of ``info``'s acquisition with secret ``token``, taken at ``now``."""
        expires = now + self.config.ttl
        return {
            **self.key(info.env),
            "service": text_value(self.service),
            "env": text_value(info.env),
            "lock_id": text_value(info.lock_id),
            "token": text_value(token),
            "run": text_value(info.run),
            "actor": text_value(info.actor),
            "host": text_value(info.host),
            "pid": number_value(info.pid),
            "runbook": text_value(info.runbook),
            "created": text_value(info.since),
            "expires_at": number_value(expires),
            TTL_ATTRIBUTE: number_value(expires + PURGE_AFTER),
            "heartbeat": text_value(iso(now)),
        }


def expired(item: dict[str, Any], now: float) -> bool:
    """A released, broken or timed-out lock: free for the next acquisition."""
    return "token" not in item or float(item.get("expires_at", {}).get("N", "0")) < now


def info_of(item: dict[str, Any]) -> LockInfo:
    """The holder a lock item names."""

    def text(name: str) -> str:
        return str(item.get(name, {}).get("S", "?"))

    pid = int(float(item.get("pid", {}).get("N", "0")))
    expires = iso(float(item["expires_at"]["N"])) if "expires_at" in item else None
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
