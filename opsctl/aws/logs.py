"""CloudWatch Logs reads: the last lines of one stream, and events matching a stream prefix.

Used by the ECS driver's failure diagnosis (the new tasks' last lines) and by
``opsctl logs`` (FilterLogEvents over the service's log group). Only reads:
nothing here changes a log group. boto3 is imported inside functions (STYLE 8).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from opsctl.aws.errors import aws_problem, credential_problem, error_code, error_message
from opsctl.errors import BadInput, Unavailable

T = TypeVar("T")

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
PAGE_LIMIT = 10_000  # FilterLogEvents' own maximum per page
MAX_PAGES = 200  # a bound on one search, however many empty pages CloudWatch answers with


@dataclass(frozen=True)
class LogLine:
    """One log event: when, from which stream, what it said (trailing newline removed)."""

    timestamp: int  # milliseconds since the epoch, as CloudWatch Logs reports it
    stream: str
    message: str
    event_id: str = ""

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, tz=UTC)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ts": self.when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "stream": self.stream,
            "message": self.message,
        }


def logs_client(region: str | None, endpoint_url: str | None, profile: str | None) -> Any:
    """A CloudWatch Logs client (standard retries, short timeouts); AWS_ENDPOINT_URL(_CLOUDWATCH_LOGS) honoured."""
    from botocore.exceptions import NoRegionError

    from opsctl.aws.client import aws_client

    try:
        return aws_client(
            "logs",
            region=region,
            endpoint_url=endpoint_url,
            profile=profile,
            retries=2,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
    except NoRegionError:
        raise BadInput("CloudWatch Logs: no AWS region: set platform.region in opsctl.yaml, or AWS_REGION") from None


def _call(what: str, call: Callable[[], T]) -> T:
    """One read; an unreachable service is Unavailable (exit 5), a refusal one clear BadInput line."""
    from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

    try:
        return call()
    except (BotoCoreError, ClientError) as exc:
        problem = credential_problem(exc)
        if problem is not None:
            raise problem from None
        if isinstance(exc, ConnectionError | HTTPClientError):
            raise Unavailable(f"{what}: CloudWatch Logs is unreachable ({type(exc).__name__}); try again") from None
        if error_code(exc) == "ResourceNotFoundException":
            raise LogsMissing(f"{what}: {error_message(exc)}") from None
        if isinstance(exc, ClientError) and error_code(exc) in {"ServiceUnavailableException", "InternalFailure"}:
            raise Unavailable(f"{what}: CloudWatch Logs is unavailable: {error_message(exc)}") from None
        raise aws_problem(exc, what, "CloudWatch Logs") from None


class LogsMissing(BadInput):
    """The log group or stream does not exist (yet: a task that never started writes none)."""


def _line(event: dict[str, Any], stream: str) -> LogLine:
    return LogLine(
        timestamp=int(event.get("timestamp") or 0),
        stream=str(event.get("logStreamName") or stream),
        message=str(event.get("message") or "").rstrip("\n"),
        event_id=str(event.get("eventId") or ""),
    )


def last_lines(client: Any, group: str, stream: str, limit: int) -> list[LogLine]:
    """The last ``limit`` lines of one stream, oldest first (GetLogEvents from the tail)."""
    if limit <= 0:
        return []
    answer = _call(
        f"reading {group}/{stream}",
        lambda: client.get_log_events(logGroupName=group, logStreamName=stream, limit=limit, startFromHead=False),
    )
    return [_line(event, stream) for event in answer.get("events", [])][-limit:]


def filter_events(
    client: Any,
    group: str,
    *,
    prefix: str | None = None,
    streams: list[str] | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    limit: int | None = None,
) -> Iterator[LogLine]:
    """Events of ``group`` (FilterLogEvents), oldest first, page by page, at most ``limit`` of them.

    ``streams`` (exact names) wins over ``prefix``: the API takes one or the other.
    """
    args: dict[str, Any] = {"logGroupName": group, "interleaved": True}
    if streams:
        args["logStreamNames"] = streams[:100]
    elif prefix:
        args["logStreamNamePrefix"] = prefix
    if start_ms is not None:
        args["startTime"] = start_ms
    if end_ms is not None:
        args["endTime"] = end_ms
    given = 0
    token: str | None = None
    for _ in range(MAX_PAGES):
        page = dict(args, limit=min(PAGE_LIMIT, (limit - given) if limit else PAGE_LIMIT))
        if token:
            page["nextToken"] = token

        def read(page: dict[str, Any] = page) -> Any:
            return client.filter_log_events(**page)

        answer = _call(f"reading log group {group}", read)
        # A page is sorted by time; CloudWatch may answer a page with no events and a token (still searching).
        for event in sorted(answer.get("events", []), key=lambda e: int(e.get("timestamp") or 0)):
            yield _line(event, "")
            given += 1
            if limit and given >= limit:
                return
        token = answer.get("nextToken")
        if not token:
            return
