"""Analysis windows after the rollout: defaults per environment, with: overrides, the guard at every reading,
each reading shown; PromQL shapes (respx for Prometheus, a real bot for the guard)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from opsctl.config import AnalysisConfig, PrometheusSeries
from opsctl.engine.outcome import Status
from opsctl.health import prometheus, slo
from opsctl.health.analysis import AnalysisParams, Measurement, run_windows
from opsctl.health.params import ErrorRateParams, LatencyParams
from opsctl.health.promql import TrafficQueries
from opsctl.health.window import WindowSpec, plan_windows, rollout_finished_at, window_spec
from opsctl.sandbox.bot import BotServer
from tests.health import helpers
from tests.health.helpers import config_for, ctx_for
from tests.support.context import make_ctx

bot = helpers.bot
PROM = "http://prom.test"
SLO = {"p95_ms": 300, "error_rate": 0.01, "error_window": "5m", "db_pool_utilization": 0.8}


class Recorder:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "message":
            self.messages.append(data["message"])


def vector(value: str) -> dict[str, Any]:
    return {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, value]}]}}


def answers(requests: str = "100", errors: str = "0", p95: str = "0.1") -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        query = request.url.params["query"]
        if query.startswith("count("):
            return httpx.Response(200, json=vector("3"))
        if query.startswith("histogram_quantile"):
            return httpx.Response(200, json=vector(p95))
        return httpx.Response(200, json=vector(errors if "5.." in query else requests))

    return answer


def test_defaults_per_environment_and_with_overrides(tmp_path: Path) -> None:
    config = config_for("http://127.0.0.1:9")
    config["environments"]["production"]["health"] = {"base_url": "http://127.0.0.1:9"}
    production = make_ctx(tmp_path, config, env="production")
    assert window_spec(production, AnalysisParams()) == WindowSpec(30.0, 60.0, 5, 0, 1, 50, "fail")
    staging = make_ctx(tmp_path, config)
    assert window_spec(staging, AnalysisParams()) == WindowSpec(0.0, 30.0, 1, 0, 0, 10, "warn")
    given = AnalysisParams.model_validate({"count": 2, "interval": "5s", "min_requests": 3})
    assert window_spec(production, given) == WindowSpec(30.0, 5.0, 2, 0, 1, 3, "fail")
    assert AnalysisConfig(count=3).resolved(protected=True)["interval"] == 60.0


def test_windows_follow_the_rollout_back_to_back() -> None:
    rolled = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    windows = plan_windows(WindowSpec(30.0, 60.0, 3, 0, 1, 50, "fail"), rolled)
    assert [w.describe() for w in windows] == ["10:00:30-10:01:30", "10:01:30-10:02:30", "10:02:30-10:03:30"]
    assert all(w.seconds == 60 for w in windows)


def test_rollout_time_comes_from_this_runs_journal(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, "http://127.0.0.1:9")
    assert rollout_finished_at(ctx) is None
    ctx.journal.event("deploy", "failed", kind="step", detail={"rollout": "failed"})
    assert rollout_finished_at(ctx) is None
    event = ctx.journal.event("deploy", "passed", kind="step", detail={"rollout": "stable"})
    assert rollout_finished_at(ctx) == datetime.fromisoformat(event["ts"].replace("Z", "+00:00"))


def test_promql_honours_names_selector_and_version() -> None:
    series = PrometheusSeries(
        histogram="hvb_latency_seconds", counter="hvb_requests", status_label="code", selector='job="hvb"'
    )
    queries = TrafficQueries(series, "1.8.0")
    assert queries.p95(60) == (
        'histogram_quantile(0.95, sum by (le) (rate(hvb_latency_seconds_bucket{job="hvb", version="1.8.0"}[60s])))'
    )
    assert (
        queries.errors(60) == 'sum(increase(hvb_requests{job="hvb", code=~"5..", version="1.8.0"}[60s])) or vector(0)'
    )
    assert queries.requests(90) == 'sum(increase(hvb_requests{job="hvb", version="1.8.0"}[90s]))'
    assert TrafficQueries(series.model_copy(update={"version_label": None}), "1.8.0").requests(5) == (
        'sum(increase(hvb_requests{job="hvb"}[5s]))'
    )


@respx.mock(base_url=PROM)
def test_query_and_query_range_api(respx_mock: respx.MockRouter) -> None:
    from opsctl.health.client import HealthClient

    route = respx_mock.get("/api/v1/query").mock(
        return_value=httpx.Response(
            200,
            json={
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {"le": "0.5"}, "value": [1700000000, "2"]}]},
            },
        )
    )
    respx_mock.get("/api/v1/query_range").mock(
        return_value=httpx.Response(
            200,
            json={
                "status": "success",
                "data": {
                    "resultType": "matrix",
                    "result": [{"metric": {}, "values": [[1, "1"], [2, "NaN"], [3, "4"]]}],
                },
            },
        )
    )
    with HealthClient(PROM, timeout=2) as client:
        samples = prometheus.query(client, "x", at=1700000000.5)
        assert [(s.labels, s.value) for s in samples] == [({"le": "0.5"}, 2.0)]
        assert route.calls.last.request.url.params["time"] == "1700000000.500"
        ranged = prometheus.query_range(client, "x", 1, 3, 1)
        assert ranged[0].points == [(1.0, 1.0), (3.0, 4.0)]


def test_health_turning_critical_mid_analysis_fails_the_reading(tmp_path: Path, bot: BotServer) -> None:
    analysis = {"initial_delay": "0s", "interval": "400ms", "count": 4, "min_requests": 5}
    ctx = ctx_for(tmp_path, bot.url, slo=SLO, prometheus_url=PROM, analysis=analysis)
    ctx.observer = recorder = Recorder()
    ctx.state.release = {"id": "hvb-staging:9", "image": "hvb:1.8.0"}
    ctx.journal.event("deploy", "passed", kind="step", detail={"rollout": "stable"})
    threading.Timer(0.6, lambda: bot.configure(status=503, fault_paths={"/health"})).start()
    with respx.mock(base_url=PROM) as mock:
        mock.route(host="127.0.0.1").pass_through()
        mock.get("/api/v1/query").mock(side_effect=answers())
        outcome = slo.latency(ctx, LatencyParams())
    assert outcome.status is Status.FAILED
    assert outcome.summary.startswith(f"health: GET {bot.url}/health answered HTTP 503")
    assert outcome.summary.endswith(" [1 of 2 readings failed, limit 0]")
    assert [m["verdict"] for m in outcome.detail["measurements"]] == ["passed", "failed"]
    assert recorder.messages[0].startswith("latency reading 1/4 (passed): p95 100ms <= 300ms (Prometheus, ")
    assert recorder.messages[1].startswith("latency reading 2/4 (failed): health: GET ")


def test_all_failed_window_is_a_failure_and_version_probed(tmp_path: Path, bot: BotServer) -> None:
    analysis = {"initial_delay": "0s", "interval": "200ms", "count": 1, "min_requests": 5}
    ctx = ctx_for(tmp_path, bot.url, slo=SLO, prometheus_url=PROM, analysis=analysis)
    ctx.journal.event("deploy", "passed", kind="step", detail={"rollout": "stable"})
    with respx.mock(base_url=PROM) as mock:
        mock.route(host="127.0.0.1").pass_through()
        mock.get("/api/v1/query").mock(side_effect=answers(requests="40", errors="40"))
        dead = slo.latency(ctx, LatencyParams())
        ctx.state.release = {"id": "hvb-staging:9", "image": "hvb:1.9.0"}
        mock.get("/api/v1/query").mock(side_effect=answers())
        wrong = slo.error_rate(ctx, ErrorRateParams(baseline=False))
    assert dead.status is Status.FAILED
    assert dead.summary.startswith("all 40 requests in the window failed (5xx) (Prometheus, ")
    assert wrong.status is Status.FAILED
    assert wrong.summary.startswith("version: 3 of 3 probes served 1.8.0, expected 1.9.0; error rate 0.00% <= 1.00%")


@pytest.mark.parametrize(
    ("readings", "status", "summary"),
    [
        (["pass", "inc", "pass"], Status.PASSED, "ok [2 of 3 readings passed]"),
        (["inc", "inc"], Status.FAILED, "inconclusive: quiet [2 of 2 readings inconclusive, limit 1]"),
        (["inc", "inc", "pass"], Status.FAILED, "inconclusive: quiet [2 of 2 readings inconclusive, limit 1]"),
        (["pass", "fail"], Status.FAILED, "bad [1 of 2 readings failed, limit 0]"),
    ],
)
def test_window_verdicts(readings: list[str], status: Status, summary: str) -> None:
    made = {
        "pass": Measurement(1.0, True, "ok"),
        "fail": Measurement(9.0, False, "bad"),
        "inc": Measurement.too_little("quiet"),
    }
    script = iter(readings)
    spec = WindowSpec(0.0, 0.01, 3, 0, 1, 1, "fail")
    past = datetime.now(UTC) - timedelta(minutes=1)
    outcome = run_windows(
        lambda _: made[next(script)],
        plan_windows(spec, past),
        spec,
        cancel=threading.Event(),
        clock=lambda: datetime.now(UTC),
    )
    assert (outcome.status, outcome.summary) == (status, summary)


def test_bad_analysis_config_names_the_key(tmp_path: Path) -> None:
    from opsctl.errors import BadInput

    config = config_for("http://127.0.0.1:9", analysis={"count": 0})
    with pytest.raises(BadInput) as caught:
        make_ctx(tmp_path, config)
    assert str(caught.value).endswith(
        "opsctl.yaml:14: environments -> staging -> health -> analysis -> count: "
        "input should be greater than or equal to 1"
    )
