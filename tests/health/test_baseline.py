"""metrics.baseline: one set of concurrent requests gives the error rate and the latency; real traffic needs none."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import respx

from opsctl.engine.outcome import Status
from opsctl.health import slo
from opsctl.health.params import BaselineParams
from opsctl.sandbox.bot import BotServer
from tests.health import helpers
from tests.health.helpers import Timer, ctx_for
from tests.health.test_prometheus import PROM, prom_ctx, vector

bot = helpers.bot


def test_the_default_baseline_is_one_set_of_twenty_concurrent_requests(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(latency=0.3, fault_paths={"/health"})
    ctx = ctx_for(tmp_path, bot.url)
    with Timer() as timer:
        outcome = slo.baseline(ctx, BaselineParams())
    assert outcome.status is Status.PASSED
    assert re.fullmatch(
        r"baseline: error rate 0\.00% \(synthetic: 20 requests to /health\), p95 3\d\dms", outcome.summary
    )
    assert bot.hits["/health"] == 20  # before: 50 for the error rate, then 21 more for the latency
    # Ten at a time: two rounds of 0.3 s (before: 15 rounds of five, about 4.5 s).
    assert timer.elapsed < 2.5, timer.elapsed
    record = ctx.state.baseline
    assert record is not None
    assert (record["error_rate"], record["error_source"]) == (0.0, "synthetic: 20 requests to /health")
    assert 300 <= record["p50_ms"] <= record["p95_ms"]


def test_failed_requests_count_in_the_rate_and_the_latency_is_of_the_answers(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(error_rate=0.1)  # every tenth request answers 500
    ctx = ctx_for(tmp_path, bot.url)
    outcome = slo.baseline(ctx, BaselineParams())
    assert outcome.status is Status.PASSED
    assert re.fullmatch(
        rf"baseline: error rate 10\.00% \(synthetic: 20 requests to /health; first error: GET {bot.url}/health "
        r"answered HTTP 500\), p95 \d+ms",
        outcome.summary,
    )
    assert bot.hits["/health"] == 20


def test_separate_latency_samples_are_still_honoured(tmp_path: Path, bot: BotServer) -> None:
    ctx = ctx_for(tmp_path, bot.url)
    outcome = slo.baseline(ctx, BaselineParams(samples=30, latency_samples=5))
    assert re.fullmatch(
        r"baseline: error rate 0\.00% \(synthetic: 30 requests to /health\), p95 \d+ms", outcome.summary
    )
    assert bot.hits["/health"] == 30 + 5 + 1  # the latency set has one warm-up request
    none = slo.baseline(ctx_for(tmp_path, bot.url), BaselineParams(samples=10, latency_samples=0))
    assert none.summary == "baseline: error rate 0.00% (synthetic: 10 requests to /health)"


def test_the_old_source_name_sampled_also_takes_the_latency(tmp_path: Path, bot: BotServer) -> None:
    outcome = slo.baseline(ctx_for(tmp_path, bot.url), BaselineParams.model_validate({"source": "sampled"}))
    assert re.fullmatch(
        r"baseline: error rate 0\.00% \(synthetic: 20 requests to /health\), p95 \d+ms", outcome.summary
    )


@respx.mock(base_url=PROM)
def test_real_traffic_needs_no_request_to_the_bot(tmp_path: Path, respx_mock: respx.MockRouter) -> None:
    respx_mock.get("/api/v1/query").mock(return_value=httpx.Response(200, json=vector("0.001")))
    ctx = prom_ctx(tmp_path)
    outcome = slo.baseline(ctx, BaselineParams())  # nothing else is mocked: a request to the bot would fail
    assert (outcome.status, outcome.summary) == (Status.PASSED, "baseline: error rate 0.10% (Prometheus, last 5m00s)")
    assert ctx.state.baseline is not None
    assert "p95_ms" not in ctx.state.baseline
