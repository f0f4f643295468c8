"""The bucket, as the mirror uses it: put, get and list under the configured prefix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opsctl.aws.client import aws_client
from opsctl.aws.errors import aws_problem
from opsctl.config import S3Audit
from opsctl.errors import BadInput

# Short timeouts: a run's end must not hang on a dead endpoint (the queue keeps the work).
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 10.0


class Bucket:
    """``s3://bucket/prefix`` with explicit timeouts and botocore standard retries.

    Every call here is safe to re-send: PUTs write the same bytes to the same
    key, the rest only read.
    """

    def __init__(self, config: S3Audit, *, client: Any = None, retries: int = 2) -> None:
        self.config = config
        self.name = config.bucket
        self._client = client
        self._retries = retries

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws_client(
                "s3",
                region=self.config.region,
                endpoint_url=self.config.endpoint_url,
                retries=self._retries,
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
            )
        return self._client

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=body, ContentType=content_type)

    def get(self, key: str) -> bytes:
        data: bytes = self.client.get_object(Bucket=self.name, Key=key)["Body"].read()
        return data

    def list(self, prefix: str, start_after: str | None = None, *, flat: bool = False) -> Iterator[tuple[str, str]]:
        """(key, ETag without quotes) of every object under ``prefix``, in key order.

        ``flat``: only the objects directly in ``prefix``, not in its sub-folders (S3's delimiter).
        """
        kwargs: dict[str, Any] = {"Bucket": self.name, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        if flat:
            kwargs["Delimiter"] = "/"
        for page in self.client.get_paginator("list_objects_v2").paginate(**kwargs):
            for item in page.get("Contents", []):
                yield str(item["Key"]), str(item.get("ETag", "")).strip('"')

    def problem(self, exc: BaseException, what: str) -> Exception:
        """One clear line for a failed call (the CLI prints it; the uploader records it)."""
        from opsctl.aws.errors import error_code

        if error_code(exc) == "NoSuchBucket":
            return BadInput(f"{what}: bucket {self.name} does not exist (see audit.s3.bucket in opsctl.yaml)")
        return aws_problem(exc, what, "S3")
