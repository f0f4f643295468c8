"""The retrying sender on its own: Retry-After forms, backoff, what is and is not retried."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import respx

from opsctl.notify.deliver import Request, RetryPolicy, parse_retry_after, post_json
from tests.notify.support import Sleeps

URL = "https://receiver.example.test/hook"


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3", now) == 3.0
    assert parse_retry_after("Fri, 27 Nov 2026 10:00:04 GMT", now) == 4.0
    assert parse_retry_after("Fri, 27 Nov 2026 09:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(backoff=0.5, max_delay=1.5)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4)] == [0.5, 1.0, 1.5, 1.5]
    assert policy.delay(1, 7.0) == 7.0


@respx.mock
def test_client_errors_are_not_retried() -> None:
    route = respx.post(URL).respond(400, text="invalid_payload")
    sleeps = Sleeps()
    with httpx.Client() as client:
        result = post_json(
            client, Request("slack", "Slack", URL, {"text": "x"}), "deploy.started", RetryPolicy(sleep=sleeps)
        )
    assert route.call_count == 1
    assert sleeps == []
    assert (result.status, result.summary, result.http_status) == (
        "warned",
        "Slack refused deploy.started: HTTP 400: invalid_payload",
        400,
    )


@respx.mock
def test_a_5xx_then_success_is_sent() -> None:
    route = respx.post(URL).mock(side_effect=[httpx.Response(502), httpx.Response(503), httpx.Response(200)])
    sleeps = Sleeps()
    with httpx.Client() as client:
        result = post_json(client, Request("webhook", "the webhook", URL, {}), "window", RetryPolicy(sleep=sleeps))
    assert route.call_count == 3
    assert sleeps == [0.5, 1.0]
    assert (result.ok, result.attempts) == (True, 3)
