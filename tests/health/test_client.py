"""HealthClient unit cases with respx: retries, Retry-After, redirects, headers, budget, cancel."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
import respx

from opsctl.errors import BadInput
from opsctl.health.client import HealthClient, ProbeError, client_for, health_config, parse_retry_after, same_host
from opsctl.health.probes import check_live
from tests.health.helpers import Timer, config_for, ctx_for
from tests.support.context import make_ctx

BASE = "http://bot.test"
OK = {"status": "ok", "version": "1.8.0"}


def client(**kwargs: object) -> HealthClient:
    return HealthClient(BASE, timeout=kwargs.pop("timeout", 1.0), **kwargs)  # type: ignore[arg-type]


@respx.mock(base_url=BASE)
def test_503_then_200_is_retried(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get("/health").mock(side_effect=[httpx.Response(503), httpx.Response(200, json=OK)])
    with client() as c:
        reply = c.get("/health")
    assert (reply.status, reply.attempts, route.call_count) == (200, 2, 2)


@respx.mock(base_url=BASE)
def test_retry_after_seconds_is_honoured(respx_mock: respx.MockRouter) -> None:
    respx_mock.get("/health").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "0.3"}), httpx.Response(200, json=OK)]
    )
    with Timer() as t, client() as c:
        reply = c.get("/health")
    assert reply.status == 200
    assert t.elapsed >= 0.3


@respx.mock(base_url=BASE)
def test_retry_after_beyond_the_budget_is_not_waited_for(respx_mock: respx.MockRouter) -> None:
    respx_mock.get("/health").mock(return_value=httpx.Response(503, headers={"Retry-After": "5"}))
    with Timer() as t, client(budget=2.0) as c:
        reply = c.get("/health")
    assert reply.describe_status() == (
        f"GET {BASE}/health answered HTTP 503 (Retry-After 5.0s would exceed the time budget)"
    )
    assert t.elapsed < 1.0


@respx.mock(base_url=BASE)
def test_500_and_post_are_never_retried(respx_mock: respx.MockRouter) -> None:
    get = respx_mock.get("/health").mock(return_value=httpx.Response(500))
    post = respx_mock.post("/api/messages").mock(return_value=httpx.Response(503))
    with client() as c:
        assert c.get("/health").attempts == 1
        assert c.post("/api/messages", {"text": "hi"}).status == 503
    assert (get.call_count, post.call_count) == (1, 1)


@respx.mock(base_url=BASE)
def test_measurements_do_not_retry(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get("/health").mock(return_value=httpx.Response(503))
    with client() as c:
        assert c.get("/health", retries=0).status == 503
    assert route.call_count == 1


@respx.mock(base_url=BASE)
def test_same_host_redirect_is_followed(respx_mock: respx.MockRouter) -> None:
    respx_mock.get("/health").mock(return_value=httpx.Response(301, headers={"Location": "/v2/health"}))
    respx_mock.get("/v2/health").mock(return_value=httpx.Response(200, json=OK))
    with client() as c:
        outcome = check_live(c, "/health")
    assert outcome.ok
    assert outcome.summary.startswith(f"{BASE}/v2/health answered status ok")


@respx.mock(base_url=BASE)
def test_cross_host_redirect_fails_naming_the_host(respx_mock: respx.MockRouter) -> None:
    respx_mock.get("/health").mock(
        return_value=httpx.Response(302, headers={"Location": "https://login.evil.example/sso?next=/health"})
    )
    with client() as c, pytest.raises(ProbeError) as caught:
        c.get("/health")
    assert str(caught.value) == f"{BASE}/health redirected to another host (https://login.evil.example); not followed"


@respx.mock(base_url=BASE)
def test_redirect_loop_stops(respx_mock: respx.MockRouter) -> None:
    respx_mock.get("/health").mock(return_value=httpx.Response(302, headers={"Location": "/health"}))
    with client() as c, pytest.raises(ProbeError) as caught:
        c.get("/health")
    assert str(caught.value) == f"{BASE}/health: more than 5 redirects"


def test_same_host_rules() -> None:
    assert same_host("http://a.example/x", "http://A.example/y")
    assert same_host("http://a.example/x", "https://a.example/x")  # an upgrade to TLS
    assert not same_host("https://a.example/x", "http://a.example/x")  # never a downgrade
    assert not same_host("http://a.example:8080/", "http://a.example:9090/")
    assert not same_host("http://a.example/", "http://b.example/")


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    later = parse_retry_after(format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True))
    assert later is not None
    assert 25 < later <= 30


@respx.mock(base_url=BASE)
def test_cancel_stops_the_wait_between_attempts(respx_mock: respx.MockRouter) -> None:
    respx_mock.get("/health").mock(return_value=httpx.Response(503, headers={"Retry-After": "20"}))
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    with Timer() as t, client(timeout=10.0, cancel=cancel) as c, pytest.raises(ProbeError) as caught:
        c.get("/health")
    assert str(caught.value) == "interrupted while waiting to retry"
    assert t.elapsed < 2.0


def test_headers_come_from_env_and_are_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVB_HEALTH_TOKEN", "s3cr3t-health-token")
    ctx = ctx_for(tmp_path, BASE, headers_env={"Authorization": "HVB_HEALTH_TOKEN"})
    with respx.mock(base_url=BASE) as mock:
        route = mock.get("/health").mock(return_value=httpx.Response(200, json=OK))
        with client_for(ctx, health_config(ctx)) as c:
            c.get("/health")
    assert route.calls.last.request.headers["Authorization"] == "s3cr3t-health-token"
    assert ctx.redactor.text("token s3cr3t-health-token leaked") == "token *** leaked"


def test_missing_header_variable_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HVB_HEALTH_TOKEN", raising=False)
    ctx = ctx_for(tmp_path, BASE, headers_env={"Authorization": "HVB_HEALTH_TOKEN"})
    with pytest.raises(BadInput) as caught:
        client_for(ctx, health_config(ctx))
    assert str(caught.value) == (
        "environment variable HVB_HEALTH_TOKEN is not set (it gives the Authorization header of health probes)"
    )


def test_environment_without_health_config_is_bad_input(tmp_path: Path) -> None:
    config = config_for(BASE)
    del config["environments"]["production"]["health"]
    ctx = make_ctx(tmp_path, config, env="production")
    with pytest.raises(BadInput) as caught:
        health_config(ctx)
    assert str(caught.value) == (
        "environment 'production' has no health config; set environments.production.health.base_url "
        "in opsctl.yaml or pass with: base_url"
    )
    assert health_config(ctx, "http://other.test").base_url == "http://other.test"


@respx.mock(base_url=BASE)
def test_retry_after_longer_than_opsctl_waits(respx_mock: respx.MockRouter) -> None:
    respx_mock.get("/health").mock(return_value=httpx.Response(429, headers={"Retry-After": "45"}))
    with Timer() as t, client(budget=300.0) as c:
        reply = c.get("/health")
    assert reply.describe_status() == (
        f"GET {BASE}/health answered HTTP 429 (Retry-After 45.0s is longer than opsctl waits (30.0s))"
    )
    assert t.elapsed < 1.0


@respx.mock(base_url=BASE)
def test_query_parameters_are_sent_but_not_shown(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get("/api/v1/query").mock(return_value=httpx.Response(502))
    with client() as c:
        reply = c.get("/api/v1/query", params={"query": "up"}, retries=0)
    assert route.calls.last.request.url.params["query"] == "up"
    assert reply.describe_status() == f"GET {BASE}/api/v1/query answered HTTP 502"
