"""Prometheus as the metrics source (respx): error rate, baseline, DB pool gauge, freshness, no data."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Status
from opsctl.errors import BadInput
from opsctl.health import freshness, slo
from opsctl.health.params import BaselineParams, DbPoolParams, ErrorRateParams, FreshParams
from tests.health.helpers import ctx_for

PROM = "http://prom.test"


def vector(value: str, at: float | None = None, series: int = 1) -> dict[str, Any]:
    at = time.time() if at is None else at
    result = [{"metric": {}, "value": [at, value]} for _ in range(series)]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def prom_ctx(tmp_path: Path) -> RunContext:
    return ctx_for(tmp_path, "http://bot.test", prometheus_url=PROM)


@respx.mock(base_url=PROM)
def test_error_rate_from_prometheus(tmp_path: Path, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get("/api/v1/query").mock(return_value=httpx.Response(200, json=vector("0.02")))
    outcome = slo.error_rate(prom_ctx(tmp_path), ErrorRateParams())
    assert (outcome.status, outcome.summary) == (Status.FAILED, "error rate 2.00% > 1.00% (Prometheus, last 5m00s)")
    query = route.calls.last.request.url.params["query"]
    assert query == (
        '(sum(rate(http_requests_total{status=~"5.."}[300s])) or vector(0)) / sum(rate(http_requests_total[300s]))'
    )


@respx.mock(base_url=PROM)
def test_custom_query_and_window(tmp_path: Path, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get("/api/v1/query").mock(return_value=httpx.Response(200, json=vector("0.001")))
    outcome = slo.error_rate(prom_ctx(tmp_path), ErrorRateParams(query="hvb:errors:ratio[{window}]", window="10m"))
    assert outcome.summary == "error rate 0.10% <= 1.00% (Prometheus, last 10m00s)"
    assert route.calls.last.request.url.params["query"] == "hvb:errors:ratio[600s]"


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ({"status": "success", "data": {"resultType": "vector", "result": []}}, "the query returned no series: "),
        (vector("NaN"), "the query returned NaN (no requests in the window?)"),
        (vector("0.5", series=3), "the query returned 3 series; aggregate it to one, e.g. with max()"),
        (
            {"status": "success", "data": {"resultType": "matrix", "result": []}},
            "the query returned a matrix; it must give an instant vector or a scalar",
        ),
    ],
)
def test_no_data_is_a_failure(tmp_path: Path, answer: dict[str, Any], why: str) -> None:
    with respx.mock(base_url=PROM) as mock:
        mock.get("/api/v1/query").mock(return_value=httpx.Response(200, json=answer))
        outcome = slo.error_rate(prom_ctx(tmp_path), ErrorRateParams(query="q"))
    assert outcome.status is Status.FAILED
    shown = why + "q" if why.endswith(": ") else why
    assert outcome.summary == f"no data: {shown} (Prometheus, last 5m00s)"


@respx.mock(base_url=PROM)
def test_rejected_query_and_unreachable_prometheus(tmp_path: Path, respx_mock: respx.MockRouter) -> None:
    respx_mock.get("/api/v1/query").mock(
        return_value=httpx.Response(
            400, json={"status": "error", "errorType": "bad_data", "error": "parse error at char 5"}
        )
    )
    outcome = slo.error_rate(prom_ctx(tmp_path), ErrorRateParams(query="sum(("))
    assert outcome.summary == "no data: Prometheus rejected the query: parse error at char 5 (Prometheus, last 5m00s)"
    respx_mock.get("/api/v1/query").mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    down = slo.error_rate(prom_ctx(tmp_path), ErrorRateParams(retries=0))
    assert down.summary == (
        f"no data: cannot connect to {PROM}/api/v1/query: connection refused (Prometheus, last 5m00s)"
    )


@respx.mock(base_url=PROM)
def test_baseline_from_prometheus_then_an_increase(tmp_path: Path, respx_mock: respx.MockRouter) -> None:
    respx_mock.get("/api/v1/query").mock(
        side_effect=[httpx.Response(200, json=vector("0.001")), httpx.Response(200, json=vector("0.009"))]
    )
    ctx = prom_ctx(tmp_path)
    recorded = slo.baseline(ctx, BaselineParams(latency_samples=0))
    assert recorded.summary == "baseline: error rate 0.10% (Prometheus, last 5m00s)"
    after = slo.error_rate(ctx, ErrorRateParams())
    assert after.status is Status.FAILED
    assert after.summary == (
        "error rate 0.90% is up from 0.10% before the deploy, more than the tolerance of 0.50 points "
        "(Prometheus, last 5m00s)"
    )


@respx.mock(base_url=PROM)
def test_baseline_without_data_warns(tmp_path: Path, respx_mock: respx.MockRouter) -> None:
    respx_mock.get("/api/v1/query").mock(return_value=httpx.Response(200, json=vector("NaN")))
    ctx = prom_ctx(tmp_path)
    outcome = slo.baseline(ctx, BaselineParams(latency_samples=0))
    assert (outcome.status, outcome.summary) == (
        Status.WARNED,
        "baseline recorded without an error rate (no data: the query returned NaN (no requests in the window?))",
    )
    assert ctx.state.baseline["error_rate"] is None


@respx.mock(base_url=PROM)
def test_db_pool_from_a_prometheus_gauge(tmp_path: Path, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get("/api/v1/query").mock(return_value=httpx.Response(200, json=vector("0.9")))
    outcome = slo.db_pool(prom_ctx(tmp_path), DbPoolParams(source="prometheus"))
    assert (outcome.status, outcome.summary) == (Status.FAILED, "DB pool utilization 90% (Prometheus) > 80%")
    assert route.calls.last.request.url.params["query"] == "max(hvb_db_pool_in_use / hvb_db_pool_size)"


@respx.mock(base_url=PROM)
def test_freshness_from_prometheus(tmp_path: Path, respx_mock: respx.MockRouter) -> None:
    now = time.time()
    respx_mock.get("/api/v1/query").mock(
        side_effect=[
            httpx.Response(200, json=vector(str(now - 20), at=now)),
            httpx.Response(200, json=vector(str(now - 900), at=now)),
        ]
    )
    ctx = prom_ctx(tmp_path)
    fresh = freshness.fresh(ctx, FreshParams())
    assert (fresh.status, fresh.summary) == (Status.PASSED, "newest data is 20.0s old (Prometheus)")
    stale = freshness.fresh(ctx, FreshParams())
    assert (stale.status, stale.summary) == (Status.FAILED, "newest data is 15m00s old, older than 5m00s (Prometheus)")


def test_prometheus_source_without_a_url_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as caught:
        slo.error_rate(ctx_for(tmp_path, "http://bot.test"), ErrorRateParams(source="prometheus"))
    assert str(caught.value) == (
        "metrics.error_rate reads Prometheus but no URL is set: set environments.staging.health.prometheus_url "
        "in opsctl.yaml or pass with: prometheus_url"
    )
