"""metrics.* against a real bot: latency around the SLO, sampled error rate, DB pool, /metrics, baseline."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from opsctl.engine.actions import get_action
from opsctl.engine.outcome import Status
from opsctl.health import freshness, slo
from opsctl.health.params import (
    BaselineParams,
    DbPoolParams,
    ErrorRateParams,
    FreshParams,
    LatencyParams,
)
from opsctl.sandbox.bot import BotServer
from tests.health import helpers
from tests.health.helpers import Timer, ctx_for

bot = helpers.bot

FAST_SLO = {"p95_ms": 300, "error_rate": 0.01, "error_window": "5m", "db_pool_utilization": 0.8}
SAMPLES = LatencyParams(samples=10, concurrency=10, warmup=0)


def test_latency_just_under_the_slo_passes(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(latency=0.2)
    outcome = slo.latency(ctx_for(tmp_path, bot.url, slo=FAST_SLO), SAMPLES)
    assert outcome.status is Status.PASSED, outcome.summary
    assert re.fullmatch(
        r"p95 2\d\dms <= 300ms \(synthetic: p50 2\d\dms, p99 2\d\dms; 10 requests to /health\)", outcome.summary
    )
    assert outcome.detail["p50_ms"] <= outcome.detail["p95_ms"] <= outcome.detail["p99_ms"]


def test_latency_just_over_the_slo_fails(tmp_path: Path, bot: BotServer) -> None:
    # Stands for "p95 above 2 s" with a 300 ms SLO, to keep the suite fast.
    bot.configure(latency=0.4)
    with Timer() as t:
        outcome = get_action("metrics.latency").fn(ctx_for(tmp_path, bot.url, slo=FAST_SLO), SAMPLES)
    assert outcome.status is Status.FAILED
    assert re.fullmatch(
        r"p95 4\d\dms > 300ms \(synthetic: p50 4\d\dms, p99 4\d\dms; 10 requests to /health\)", outcome.summary
    )
    assert t.elapsed < 0.4 + 2.0  # ten requests at once, not one after another


def test_latency_of_failed_requests_is_a_failure_never_a_figure(tmp_path: Path, bot: BotServer) -> None:
    # Issue 17: "metrics.latency passed with '20 requests to /health, 20 failed'".
    bot.configure(hang=5)
    with Timer() as t:
        slow = slo.latency(ctx_for(tmp_path, bot.url, slo=FAST_SLO, timeout="500ms"), SAMPLES)
    assert (slow.status, slow.summary) == (
        Status.FAILED,
        f"all 10 requests to /health failed (synthetic): no answer from {bot.url}/health within the time budget",
    )
    assert (slow.detail["value"], slow.detail["source"]) == ("all failed", "synthetic")
    assert t.elapsed < 0.5 + 2.0
    bot.configure(hang=0, status=500)
    errors = slo.latency(ctx_for(tmp_path, bot.url, slo={**FAST_SLO, "p95_ms": 5000}), SAMPLES)
    assert (errors.status, errors.summary) == (
        Status.FAILED,
        f"all 10 requests to /health failed (synthetic): GET {bot.url}/health answered HTTP 500",
    )
    bot.stop_listening()
    gone = slo.latency(ctx_for(tmp_path, bot.url, slo=FAST_SLO), SAMPLES)
    assert gone.status is Status.FAILED
    assert gone.summary == (
        f"all 10 requests to /health failed (synthetic): cannot connect to {bot.url}/health: connection refused"
    )


def test_sampled_error_rate_of_two_percent_fails(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(error_rate=0.02)
    outcome = slo.error_rate(ctx_for(tmp_path, bot.url, slo=FAST_SLO), ErrorRateParams(samples=100, concurrency=10))
    assert outcome.status is Status.FAILED
    assert outcome.summary == (
        "error rate 2.00% > 1.00% (synthetic: 100 requests to /health; "
        f"first error: GET {bot.url}/health answered HTTP 500)"
    )
    assert outcome.detail["errors"] == 2


def test_sampled_error_rate_of_a_flapping_bot(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(flap_every=3)
    outcome = slo.error_rate(ctx_for(tmp_path, bot.url), ErrorRateParams(samples=30))
    assert outcome.summary.startswith("error rate 33.33% > 1.00% (synthetic: 30 requests to /health; first error: ")


def test_unreachable_bot_is_a_100_percent_error_rate(tmp_path: Path, bot: BotServer) -> None:
    bot.stop_listening()
    outcome = slo.error_rate(ctx_for(tmp_path, bot.url), ErrorRateParams(samples=5))
    assert outcome.status is Status.FAILED
    assert outcome.summary == (
        f"error rate 100.00% > 1.00% (synthetic: 5 requests to /health; first error: cannot connect to "
        f"{bot.url}/health: connection refused)"
    )


def test_healthy_error_rate_passes(tmp_path: Path, bot: BotServer) -> None:
    outcome = slo.error_rate(ctx_for(tmp_path, bot.url), ErrorRateParams(samples=20))
    assert (outcome.status, outcome.summary) == (
        Status.PASSED,
        "error rate 0.00% <= 1.00% (synthetic: 20 requests to /health)",
    )


def test_baseline_then_an_increase_within_the_slo_fails(tmp_path: Path, bot: BotServer) -> None:
    ctx = ctx_for(tmp_path, bot.url, slo={**FAST_SLO, "error_rate": 0.05})
    recorded = get_action("metrics.baseline").fn(ctx, BaselineParams(samples=50, latency_samples=5))
    assert recorded.status is Status.PASSED
    assert re.fullmatch(
        r"baseline: error rate 0\.00% \(synthetic: 50 requests to /health\), p95 \d+ms", recorded.summary
    )
    assert ctx.state.baseline["error_rate"] == 0.0
    assert get_action("metrics.baseline").mutating is False

    bot.configure(error_rate=0.02)
    worse = slo.error_rate(ctx, ErrorRateParams(samples=50))
    assert worse.status is Status.FAILED
    assert worse.summary == (
        "error rate 2.00% is up from 0.00% before the deploy, more than the tolerance of 0.50 points "
        f"(synthetic: 50 requests to /health; first error: GET {bot.url}/health answered HTTP 500)"
    )
    tolerant = slo.error_rate(ctx, ErrorRateParams(samples=50, tolerance=0.03))
    assert tolerant.status is Status.PASSED
    assert tolerant.summary.startswith("error rate 2.00% <= 5.00%, 0.00% before the deploy (synthetic: 50 requests")
    ignored = slo.error_rate(ctx, ErrorRateParams(samples=50, baseline=False))
    assert ignored.status is Status.PASSED


def test_db_pool_at_90_percent_fails(tmp_path: Path, bot: BotServer) -> None:
    ctx = ctx_for(tmp_path, bot.url)
    assert slo.db_pool(ctx, DbPoolParams()).summary == "DB pool 4/20 in use (20%) <= 80%"
    bot.configure(pool_in_use=18, pool_size=20)
    outcome = get_action("metrics.db_pool").fn(ctx, DbPoolParams())
    assert (outcome.status, outcome.summary) == (Status.FAILED, "DB pool 18/20 in use (90%) > 80%")


def test_db_pool_without_pool_fields_is_no_data(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(missing_fields={"pool_in_use"})
    outcome = slo.db_pool(ctx_for(tmp_path, bot.url), DbPoolParams())
    assert outcome.status is Status.FAILED
    assert outcome.summary == (
        f"no data: {bot.url}/health/dependencies: the database entry has no pool_in_use and pool_size"
    )


def test_count_and_failure_limit_against_a_flapping_bot(tmp_path: Path, bot: BotServer) -> None:
    # One measurement = one GET of /health/dependencies; every third answers 500 (never retried).
    bot.configure(flap_every=3, fault_paths={"/health/dependencies"})
    ctx = ctx_for(tmp_path, bot.url)
    strict = slo.db_pool(ctx, DbPoolParams(count=5, interval="10ms"))
    assert strict.status is Status.FAILED
    assert strict.summary == (
        f"no data: GET {bot.url}/health/dependencies answered HTTP 500 [1 of 3 measurements failed, limit 0]"
    )
    assert bot.hits["/health/dependencies"] == 3  # stopped as soon as the limit was exceeded
    bot.configure(flap_every=3)  # restarts the count
    lenient = slo.db_pool(ctx, DbPoolParams(count=3, interval="10ms", failure_limit=1))
    assert (lenient.status, lenient.summary) == (
        Status.PASSED,
        "DB pool 4/20 in use (20%) <= 80% [2 of 3 measurements passed]",
    )
    assert [m["passed"] for m in lenient.detail["measurements"]] == [True, True, False]


def test_metrics_endpoint_is_fresh_and_parsed(tmp_path: Path, bot: BotServer) -> None:
    ctx = ctx_for(tmp_path, bot.url)
    outcome = freshness.fresh(ctx, FreshParams(require=["hvb_db_pool_in_use"]))
    assert outcome.status is Status.PASSED
    assert re.fullmatch(rf"{bot.url}/metrics exposes \d+ samples of \d+ metrics", outcome.summary)
    missing = get_action("metrics.fresh").fn(ctx, FreshParams(require=["hvb_messages_total"]))
    assert missing.summary == f"{bot.url}/metrics does not expose hvb_messages_total"
    bot.configure(non_json=True, fault_paths={"/metrics"})
    html = freshness.fresh(ctx, FreshParams())
    assert html.summary == (
        f"{bot.url}/metrics: line 1 is not a Prometheus sample: '<html><body><h1>It works!</h1></body></html>'"
    )


@pytest.mark.parametrize("knob", ["count", "failure_limit"])
def test_analysis_keys_are_accepted_by_every_slo_action(knob: str) -> None:
    for name in ("metrics.latency", "metrics.error_rate", "metrics.db_pool"):
        assert knob in get_action(name).known_keys()


def test_cancel_stops_sampling(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(latency=0.1)
    ctx = ctx_for(tmp_path, bot.url)
    threading.Timer(0.15, ctx.cancel.set).start()
    with Timer() as t:
        outcome = slo.latency(ctx, LatencyParams(samples=100, concurrency=1, warmup=0))
    assert t.elapsed < 1.5
    assert outcome.detail["requests"] < 10
