"""Deliver one JSON POST with bounded retries; never raise, always return a :class:`DeliveryResult`.

A notification is a courtesy to people, not part of the change: a Slack
outage must never fail or hold up a deploy. So the sender retries only
briefly (a few seconds in all), honours ``Retry-After``, and turns whatever
still goes wrong into a warning that the caller records.

Each POST ends by a wall-clock deadline (connect + read timeout) and reads at
most 1 MiB of answer (:mod:`opsctl.net.bounded`); an error body is redacted
*before* it is cut to an excerpt, so a secret it echoes cannot leak in part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from opsctl.net import bounded
from opsctl.net.deadline import Deadline
from opsctl.net.retry import RetryPolicy, is_retryable, parse_retry_after, transport_problem

__all__ = [
    "DEFAULT_POLICY",
    "DeliveryResult",
    "RetryPolicy",
    "is_retryable",
    "open_client",
    "parse_retry_after",
    "transport_problem",
]

if TYPE_CHECKING:
    import httpx

DeliveryStatus = Literal["sent", "warned", "skipped"]

_BODY_EXCERPT = 160


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


def open_client(policy: RetryPolicy = DEFAULT_POLICY) -> httpx.Client:
    """A client for :func:`post_json`: the policy's timeouts, no redirects, connections bounded by deadlines."""
    return bounded.client(timeout=policy.timeout(), follow_redirects=False)


def _excerpt(response: httpx.Response, scrub: Callable[[str], str]) -> str:
    # Scrub the whole body first: cut first, and a secret straddling the cut would leak its start.
    text = " ".join(scrub(response.text).split())
    if len(text) > _BODY_EXCERPT:
        text = text[: _BODY_EXCERPT - 3].rstrip() + "..."
    return f": {text}" if text else ""


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
            response = bounded.send(
                client,
                "POST",
                request.url,
                deadline=Deadline.after(policy.request_deadline),
                json=dict(request.payload),
                headers=dict(request.headers),
            )
        except bounded.ResponseTooLarge as exc:
            http_status = exc.status
            if http_status is not None and 200 <= http_status < 300:  # accepted; only its answer was odd
                return result("sent", f"{request.label} accepted {event} (HTTP {http_status}; {exc})")
            return result("warned", f"{request.label} refused {event}: HTTP {http_status}: {exc}")
        except httpx.HTTPError as exc:
            http_status = None
            problem = transport_problem(exc)
        else:
            http_status = response.status_code
            if response.is_success:
                return result("sent", f"{request.label} accepted {event} (HTTP {http_status})")
            problem = f"HTTP {http_status}{_excerpt(response, scrub)}"
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
