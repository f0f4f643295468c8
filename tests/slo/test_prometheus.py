"""Request counts from Prometheus counters, against a loopback server answering the HTTP API's JSON."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from opsctl.config import PrometheusSeries
from opsctl.errors import BadInput, Unavailable
from opsctl.health.client import HealthClient
from opsctl.health.promql import TrafficQueries
from opsctl.slo.budget import Counts
from opsctl.slo.prometheus import PrometheusCounts
from tests.slo.fakeprom import DAY, FakePrometheus

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
def prom() -> Iterator[FakePrometheus]:
    with FakePrometheus() as server:
        yield server


def source(url: str, series: PrometheusSeries | None = None) -> PrometheusCounts:
    return PrometheusCounts(
        HealthClient(url, timeout=2, retries=0), TrafficQueries(series or PrometheusSeries(selector=""))
    )


def test_counts_ask_for_all_and_5xx_increases_at_the_moment(prom: FakePrometheus) -> None:
    prom.counts[3600] = (12_000.0, 30.0)
    counts = source(prom.url).counts(3600, NOW)

    assert counts == Counts(12_000.0, 30.0)
    assert prom.asked() == [
        "sum(increase(http_requests_total{}[3600s]))",
        'sum(increase(http_requests_total{status=~"5.."}[3600s])) or vector(0)',
    ]
    assert {q["time"] for q in prom.queries} == {f"{NOW.timestamp():.3f}"}


def test_configured_metric_label_and_selector_are_honoured(prom: FakePrometheus) -> None:
    prom.counts[300] = (100.0, 1.0)
    series = PrometheusSeries(counter="hvb_requests_total", status_label="code", selector='job="hvb", env="prod"')
    assert source(prom.url, series).counts(300, NOW) == Counts(100.0, 1.0)
    assert prom.asked() == [
        'sum(increase(hvb_requests_total{job="hvb", env="prod"}[300s]))',
        'sum(increase(hvb_requests_total{job="hvb", env="prod", code=~"5.."}[300s])) or vector(0)',
    ]


def test_the_default_selector_leaves_probes_and_scrapes_out(prom: FakePrometheus) -> None:
    prom.counts[300] = (100.0, 1.0)
    source(prom.url, PrometheusSeries()).counts(300, NOW)
    assert prom.asked() == [
        'sum(increase(http_requests_total{path!~"/health.*|/metrics"}[300s]))',
        'sum(increase(http_requests_total{path!~"/health.*|/metrics", status=~"5.."}[300s])) or vector(0)',
    ]


def test_no_series_is_no_traffic_and_the_bad_query_is_not_sent(prom: FakePrometheus) -> None:
    assert source(prom.url).counts(300, NOW) == Counts(0.0, 0.0)
    assert len(prom.asked()) == 1


def test_no_5xx_series_is_zero_errors(prom: FakePrometheus) -> None:
    prom.counts[300] = (50.0, 0.0)
    assert source(prom.url).counts(300, NOW).error_rate == 0.0


def test_bad_series_is_one_range_query_keyed_by_bucket_end(prom: FakePrometheus) -> None:
    prom.bad_steps = [1.0, 0.0, 4.0]
    start = NOW - timedelta(days=3)
    points = source(prom.url).bad_series(start, NOW, DAY)

    assert points == [(start + timedelta(days=1), 1.0), (start + timedelta(days=2), 0.0), (NOW, 4.0)]
    (query,) = [q for q in prom.queries if q["path"] == "/api/v1/query_range"]
    assert query["query"] == 'sum(increase(http_requests_total{status=~"5.."}[86400s])) or vector(0)'
    assert (query["step"], query["end"]) == ("86400s", f"{NOW.timestamp():.3f}")
    assert query["start"] == f"{(start + timedelta(days=1)).timestamp():.3f}"


def test_a_rejected_query_is_bad_input_naming_it(prom: FakePrometheus) -> None:
    prom.error = (400, {"status": "error", "errorType": "bad_data", "error": 'parse error: unexpected "}"'})
    with pytest.raises(BadInput) as caught:
        source(prom.url).counts(300, NOW)
    assert str(caught.value) == (
        f"Prometheus at {prom.url} rejected the query sum(increase(http_requests_total{{}}[300s])): "
        'parse error: unexpected "}"'
    )


def test_a_failing_server_is_unavailable(prom: FakePrometheus) -> None:
    prom.error = (503, {"status": "error", "errorType": "unavailable", "error": "TSDB not ready"})
    with pytest.raises(Unavailable) as caught:
        source(prom.url).counts(300, NOW)
    assert str(caught.value) == f"Prometheus at {prom.url} could not answer: TSDB not ready"


def test_an_unreachable_server_is_unavailable() -> None:
    with FakePrometheus() as gone:
        url = gone.url
    with pytest.raises(Unavailable) as caught:
        source(url).counts(300, NOW)
    assert str(caught.value).startswith(f"Prometheus at {url} cannot be reached: ")


def test_an_answer_that_is_not_json_is_unavailable(prom: FakePrometheus) -> None:
    # What a proxy in front of Prometheus sends when Prometheus is down.
    prom.error = (502, "<html><body>Bad Gateway</body></html>")
    with pytest.raises(Unavailable) as caught:
        source(prom.url).counts(300, NOW)
    assert str(caught.value) == f"Prometheus at {prom.url} did not answer JSON (HTTP 502)"
