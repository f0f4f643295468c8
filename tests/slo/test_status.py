"""One environment's figures: period budget, burn rates, alerts and the chart series, from a loopback Prometheus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opsctl.errors import BadInput
from opsctl.slo.context import EnvLook
from opsctl.slo.status import CHART_POINTS, objective_text, period_text, read_status
from tests.slo.fakeprom import DAY, FakePrometheus
from tests.support.context import FIXED_NOW, base_config, make_workspace

PERIOD = 30 * DAY


@pytest.fixture
def prom() -> Iterator[FakePrometheus]:
    with FakePrometheus() as server:
        yield server


def probes(tmp_path: Path, prom_url: str | None, **slo: object) -> EnvLook:
    config = base_config()
    if prom_url:
        config["environments"]["production"]["health"]["prometheus_url"] = prom_url
    if slo:
        config["slo"] = slo
    ws = make_workspace(tmp_path, config, clock=lambda: FIXED_NOW)
    return EnvLook(ws.config, "production", ws.redactor, ws.clock)


def test_figures_from_counts(tmp_path: Path, prom: FakePrometheus) -> None:
    prom.counts = {
        PERIOD: (2_000_000.0, 1_200.0),
        300: (1_000.0, 2.0),
        1800: (6_000.0, 6.0),
        3600: (12_000.0, 6.0),
        6 * 3600: (72_000.0, 36.0),
        3 * 86400: (500_000.0, 300.0),
    }
    prom.bad_steps = [40.0] * CHART_POINTS  # 1,200 bad requests spread evenly

    status = read_status(probes(tmp_path, prom.url))

    assert status.budget.availability == pytest.approx(0.9994)
    assert status.budget.remaining == pytest.approx(0.4)
    assert status.burn_rates == pytest.approx({"5m": 2.0, "30m": 1.0, "1h": 0.5, "6h": 0.5, "3d": 0.6})
    assert [a.firing for a in status.alerts] == [False, False, False]
    assert status.healthy
    assert status.figures() == "error budget 60.0% spent (25.9 of 43.2 min at 99.9% over 30d), availability 99.9400%"
    assert len(status.over_time) == CHART_POINTS
    assert status.over_time[0][1] == pytest.approx(0.98)
    assert status.over_time[-1] == (FIXED_NOW, pytest.approx(0.4))


def test_the_chart_follows_when_the_errors_came(tmp_path: Path, prom: FakePrometheus) -> None:
    prom.counts = {PERIOD: (1_000_000.0, 500.0)}
    prom.bad_steps = [0.0] * 20 + [100.0] + [0.0] * 9  # one bad day, ten days ago

    status = read_status(probes(tmp_path, prom.url))

    left = [round(v, 6) for _, v in status.over_time]
    assert left == [1.0] * 20 + [0.5] * 10
    assert status.burn_rates == {"5m": None, "30m": None, "1h": None, "6h": None, "3d": None}


def test_an_exhausted_budget_and_a_fast_burn_are_named(tmp_path: Path, prom: FakePrometheus) -> None:
    prom.counts = {PERIOD: (1_000_000.0, 1_500.0), 300: (1_000.0, 20.0), 3600: (10_000.0, 200.0)}

    status = read_status(probes(tmp_path, prom.url), chart=False)

    assert not status.healthy
    assert status.over_time == ()
    assert status.problems() == [
        "budget exhausted: error budget 150.0% spent (64.8 of 43.2 min at 99.9% over 30d), availability 99.8500%",
        "fast burn: burn 20.0x over 1h and 20.0x over 5m (page above 14.4x)",
    ]
    assert not any(q["path"] == "/api/v1/query_range" for q in prom.queries)


def test_objective_and_period_come_from_config(tmp_path: Path, prom: FakePrometheus) -> None:
    prom.counts = {28 * int(DAY): (100_000.0, 5.0)}

    status = read_status(probes(tmp_path, prom.url, availability=0.9995, period="28d", policy="enforce"))

    assert status.budget.total_minutes == pytest.approx(20.16)
    assert status.budget.spent == pytest.approx(0.1)
    assert (status.policy, period_text(status.budget.period_s), objective_text(0.9995)) == ("enforce", "28d", "99.95%")
    assert prom.asked()[0] == 'sum(increase(http_requests_total{path!~"/health.*|/metrics"}[2419200s]))'


def test_no_source_is_bad_input_naming_the_keys(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as caught:
        read_status(probes(tmp_path, None))
    assert str(caught.value) == (
        "production has no source of request counts for the error budget: set "
        "environments.production.health.prometheus_url or health.cloudwatch in opsctl.yaml"
    )


def test_no_traffic_gives_no_figures_and_no_chart(tmp_path: Path, prom: FakePrometheus) -> None:
    status = read_status(probes(tmp_path, prom.url))
    assert (status.budget.availability, status.budget.remaining, status.over_time) == (None, None, ())
    assert status.healthy
    assert status.figures().startswith("no requests counted over 30d (Prometheus http://127.0.0.1:")
