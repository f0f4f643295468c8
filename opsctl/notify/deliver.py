"""Deliver one JSON POST with bounded retries; never raise, always return a :class:`DeliveryResult`.

A notification is a courtesy to people, not part of the change: a Slack
outage must never fail or hold up a deploy. So the sender retries only
briefly (a few seconds in all), honours ``Retry-After``, and turns whatever
still goes wrong into a warning that the caller records.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from opsctl.net.retry import is_retryable, parse_retry_after

__all__ = ["DEFAULT_POLICY", "DeliveryResult", "RetryPolicy", "is_retryable", "parse_retry_after"]

if TYPE_CHECKING:
    import httpx

DeliveryStatus = Literal["sent", "warned", "skipped"]

_BODY_EXCERPT = 160


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, exponential backoff, a total wait budget, and timeouts.

    ``sleep`` is injectable so that tests do not wait.
    """

    attempts: int = 3
    backoff: float = 0.5  # first delay; doubles on each retry
    max_delay: float = 2.0  # cap for one computed delay (Retry-After is honoured up to the budget)
    budget: float = 5.0  # total seconds spent waiting between attempts
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def timeout(self) -> httpx.Timeout:
        """The httpx timeouts of one request (connect, and read/write/pool)."""
        import httpx

        return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed ``attempt`` (1-based): the server's word, else backoff."""
        if retry_after is not None:
            return max(0.0, retry_after)
        return float(min(self.max_delay, self.backoff * 2.0 ** (attempt - 1)))


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one notification on one channel.

    ``status`` is ``sent`` (the service accepted it), ``warned`` (it could not
    be delivered; the deploy goes on) or ``skipped`` (nothing to send here, or
    a dry run). ``summary`` is one line, free of secrets.
    """

    channel: str
    event: str
    status: DeliveryStatus
    summary: str
    attempts: int = 0
    http_status: int | None = None
    kind: str = "message"

    @property
    def ok(self) -> bool:
        return self.status == "sent"

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "event": self.event,
            "kind": self.kind,
            "status": self.status,
            "summary": self.summary,
            "attempts": self.attempts,
            "http_status": self.http_status,
        }


@dataclass(frozen=True)
class Request:
    """One POST to make: where, what, and how to name it in a result (never by its URL)."""

    channel: str
    label: str  # "Slack", "PagerDuty change event" ...
    url: str
    payload: Mapping[str, Any]
    kind: str = "message"
    headers: Mapping[str, str] = field(default_factory=dict)


def transport_problem(exc: Exception) -> str:
    """A transport error in words, without the URL (which may be the secret)."""
    import httpx

    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer within the timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in str(exc).lower() else "cannot connect"
    return f"request failed ({type(exc).__name__})"


def _excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    return f": {text[:_BODY_EXCERPT]}" if text else ""


def post_json(
    client: httpx.Client,
    request: Request,
    event: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    scrub: Callable[[str], str] = lambda text: text,
) -> DeliveryResult:
    """POST ``request.payload`` as JSON, retrying 429/5xx/transport errors within ``policy``.

    Retrying a POST can in rare cases duplicate a message (the first one
    arrived but its answer did not); for notifications a duplicate is far
    better than silence, and PagerDuty alerts carry a dedup_key.
    """
    import httpx

    waited = 0.0
    attempt = 0
    problem = "not attempted"
    http_status: int | None = None

    def result(status: DeliveryStatus, summary: str) -> DeliveryResult:
        return DeliveryResult(request.channel, event, status, scrub(summary), attempt, http_status, request.kind)

    while attempt < max(1, policy.attempts):
        attempt += 1
        retry_after: float | None = None
        try:
            response = client.post(request.url, json=dict(request.payload), headers=dict(request.headers))
        except httpx.HTTPError as exc:
            http_status = None
            problem = transport_problem(exc)
        else:
            http_status = response.status_code
            if response.is_success:
                return result("sent", f"{request.label} accepted {event} (HTTP {http_status})")
            problem = f"HTTP {http_status}{_excerpt(response)}"
            if not is_retryable(http_status):
                return result("warned", f"{request.label} refused {event}: {problem}")
            retry_after = parse_retry_after(response.headers.get("retry-after"))
        if attempt >= policy.attempts:
            break
        delay = policy.delay(attempt, retry_after)
        if waited + delay > policy.budget:
            problem += f" (asked to wait {delay:.0f}s, beyond the {policy.budget:.0f}s retry budget)"
            break
        policy.sleep(delay)
        waited += delay
    return result("warned", f"could not deliver {event} to {request.label} after {attempt} attempt(s): {problem}")
