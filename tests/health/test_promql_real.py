"""Real traffic through a real Prometheus (1 s scrapes) scraping a real bot: issue 17's checks 1 and 2.

Windows are a few seconds long (``health.analysis``), so each test takes seconds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Status
from opsctl.health import slo
from opsctl.health.params import ErrorRateParams, LatencyParams
from opsctl.sandbox.bot import BotServer
from tests.health import helpers
from tests.health.helpers import ctx_for
from tests.support.prometheus import PrometheusServer, Traffic

bot = helpers.bot

SLO = {"p95_ms": 300, "error_rate": 0.01, "error_window": "5m", "db_pool_utilization": 0.8}
WINDOW = {"initial_delay": "0s", "interval": "3s", "count": 1, "min_requests": 5}


@pytest.fixture
def prom(tmp_path: Path, bot: BotServer) -> Iterator[PrometheusServer]:
    with PrometheusServer.start(tmp_path, targets=[bot.url]) as server:
        yield server


def rolled_out(ctx: RunContext, image: str = "hvb:1.8.0") -> RunContext:
    """The run's deploy step finished now, with ``image`` live (what platform.deploy journals)."""
    ctx.state.release = {"id": "hvb-staging:9", "image": image}
    ctx.journal.event("deploy", "passed", kind="step", detail={"rollout": "stable"})
    return ctx


def prom_ctx(tmp_path: Path, bot: BotServer, prom: PrometheusServer, **health: Any) -> RunContext:
    analysis = health.pop("analysis", WINDOW)
    return ctx_for(tmp_path, bot.url, slo=SLO, prometheus_url=prom.url, analysis=analysis, **health)


def test_slow_only_for_real_traffic_fails_with_promql_and_passes_synthetic(
    tmp_path: Path, bot: BotServer, prom: PrometheusServer
) -> None:
    bot.configure(latency=0.4, fault_paths={"/api/messages"})  # guests wait; /health stays fast
    with Traffic(bot.url):
        prom.wait_for_series('http_request_duration_seconds_bucket{path="/api/messages"}')
        ctx = rolled_out(prom_ctx(tmp_path, bot, prom))
        real = slo.latency(ctx, LatencyParams())
        synthetic = slo.latency(ctx, LatencyParams(source="synthetic", samples=10, concurrency=10, warmup=0))
    assert real.status is Status.FAILED, real.summary
    assert re.fullmatch(
        r"p95 4\d\dms > 300ms \(Prometheus, \d\d:\d\d:\d\d-\d\d:\d\d:\d\d, version 1\.8\.0: \d+ requests\)",
        real.summary,
    ), real.summary
    assert real.detail["source"] == "prometheus"
    assert real.detail["query"] == (
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket"
        '{path!~"/health.*|/metrics", version="1.8.0"}[3s])))'
    )
    assert [m["verdict"] for m in real.detail["measurements"]] == ["failed"]
    assert synthetic.status is Status.PASSED, synthetic.summary
    assert re.fullmatch(
        r"p95 \d+ms <= 300ms \(synthetic: p50 \d+ms, p99 \d+ms; 10 requests to /health\)", synthetic.summary
    )
    assert synthetic.detail["source"] == "synthetic"


def test_errors_before_the_deploy_do_not_count(tmp_path: Path, bot: BotServer, prom: PrometheusServer) -> None:
    bot.configure(version="1.7.0", error_rate=0.5)  # the old release fails half its requests
    with Traffic(bot.url):
        prom.wait_for_series('http_requests_total{status="500", version="1.7.0"}')
        time.sleep(3)  # a few scrapes of the old release failing
        bot.configure(version="1.8.0", error_rate=0.0)  # the rollout: the new release is healthy
        ctx = rolled_out(prom_ctx(tmp_path, bot, prom))
        after = slo.error_rate(ctx, ErrorRateParams(baseline=False))
        # Without the version label, the window alone keeps the old release's errors out.
        unversioned = rolled_out(prom_ctx(tmp_path, bot, prom, prometheus={"version_label": None}))
        by_window = slo.error_rate(unversioned, ErrorRateParams(baseline=False))
        # Without a rollout in the run, the old trailing window still sees the old release's errors.
        trailing = slo.error_rate(prom_ctx(tmp_path, bot, prom), ErrorRateParams(baseline=False))
    assert after.status is Status.PASSED, after.summary
    assert re.fullmatch(
        r"error rate 0\.00% <= 1\.00% \(Prometheus, \S+, version 1\.8\.0: 0 of \d+ requests failed\)", after.summary
    ), after.summary
    assert by_window.status is Status.PASSED, by_window.summary
    assert re.fullmatch(r"error rate 0\.00% <= 1\.00% \(Prometheus, \S+: 0 of \d+ requests failed\)", by_window.summary)
    assert trailing.status is Status.FAILED
    assert trailing.summary.startswith("error rate "), trailing.summary
    assert trailing.summary.endswith("% > 1.00% (Prometheus, last 5m00s)")


def test_too_little_traffic_is_inconclusive_never_a_pass(
    tmp_path: Path, bot: BotServer, prom: PrometheusServer
) -> None:
    prom.wait_for_series("up")
    ctx = rolled_out(prom_ctx(tmp_path, bot, prom, analysis={**WINDOW, "interval": "2s"}))
    quiet = slo.error_rate(ctx, ErrorRateParams(baseline=False))
    assert quiet.status is Status.WARNED  # staging is not protected: inconclusive warns
    assert re.fullmatch(
        r"inconclusive: 0 requests in the window, fewer than min_requests 5 \(Prometheus, \S+(, version 1\.8\.0)?\) "
        r"\[1 of 1 readings inconclusive, limit 0\]",
        quiet.summary,
    ), quiet.summary
    assert quiet.detail["verdict"] == "inconclusive"
