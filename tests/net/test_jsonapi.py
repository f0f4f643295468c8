"""JsonApi: retries that never re-send a create that may have happened, Retry-After, the budget, redaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opsctl.net.jsonapi import ApiError, JsonApi, RetryPolicy
from tests.notify.support import Sleeps
from tests.support.api_server import Recorded, Reply, StandIn

SECRET = "tok-3c1f9e7a5b2d"


class Echo(StandIn):
    def answer(self, request: Recorded) -> Reply:
        return Reply(200, {"ok": True, "method": request.method})


@pytest.fixture
def echo() -> Iterator[Echo]:
    with Echo().running() as server:
        assert isinstance(server, Echo)
        yield server


def api(echo: Echo, sleeps: Sleeps, **policy: float) -> JsonApi:
    settings = {"attempts": 3, "budget": 8.0, **policy}
    return JsonApi(
        "Test",
        echo.url,
        {"Authorization": f"Bearer {SECRET}"},
        scrub=lambda text: text.replace(SECRET, "***"),
        explain=lambda body: body.get("message") if isinstance(body, dict) else None,
        policy=RetryPolicy(sleep=sleeps, **settings),  # type: ignore[arg-type]
    )


def test_get_is_retried_on_5xx_with_backoff(echo: Echo) -> None:
    sleeps = Sleeps()
    echo.fail_next(2, 503, {"message": "busy"})
    with api(echo, sleeps) as client:
        assert client.call("GET", "/x").body == {"ok": True, "method": "GET"}
    assert sleeps == [0.5, 1.0]


def test_a_post_is_not_resent_after_a_5xx_but_is_after_a_429(echo: Echo) -> None:
    sleeps = Sleeps()
    echo.fail_next(1, 500, {"message": "oops"}, method="POST")
    with api(echo, sleeps) as client, pytest.raises(ApiError) as caught:
        client.call("POST", "/create", json={})
    assert (str(caught.value), caught.value.status, caught.value.unreachable) == (
        "Test refused POST /create: HTTP 500: oops",
        500,
        True,
    )
    assert len(echo.calls("POST")) == 1
    echo.fail_next(1, 429, {"message": "slow down"}, retry_after="4", method="POST")
    with api(echo, sleeps) as client:
        assert client.call("POST", "/create", json={}).status == 200
    assert sleeps == [4.0]


def test_retry_after_beyond_the_budget_gives_up_saying_so(echo: Echo) -> None:
    echo.fail_next(1, 429, {"message": "later"}, retry_after="60")
    with api(echo, Sleeps()) as client, pytest.raises(ApiError) as caught:
        client.call("GET", "/x")
    assert str(caught.value) == "Test GET /x: HTTP 429: later (asked to wait 60s, beyond the 8s retry budget)"


def test_error_text_is_scrubbed(echo: Echo) -> None:
    echo.fail_next(1, 400, {"message": f"bad token {SECRET}"})
    with api(echo, Sleeps()) as client, pytest.raises(ApiError) as caught:
        client.call("GET", "/x")
    assert str(caught.value) == "Test refused GET /x: HTTP 400: bad token ***"


def test_nobody_listening(echo: Echo) -> None:
    url = echo.url
    echo.stop()
    client = JsonApi("Test", url, {}, policy=RetryPolicy(attempts=2, sleep=Sleeps()))
    with client, pytest.raises(ApiError) as caught:
        client.call("POST", "/create", json={})
    assert str(caught.value) == "Test POST /create failed after 2 attempt(s): connection refused"
    assert caught.value.unreachable
