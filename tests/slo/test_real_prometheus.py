"""The error budget read from a real Prometheus (Debian ``prometheus``) scraping the sandbox bot under real traffic.

Skips outside CI when the binary is missing (naming the apt-get command); under CI=true that skip fails.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsctl.sandbox.bot import BotServer
from opsctl.slo.context import EnvLook
from opsctl.slo.status import read_status
from tests.support.context import base_config, make_workspace
from tests.support.prometheus import PrometheusServer, Traffic


def test_one_request_in_ten_failing_burns_the_budget_fast(tmp_path: Path) -> None:
    with BotServer(version="1.8.0") as bot, PrometheusServer.start(tmp_path, targets=[bot.url]) as prom:
        bot.configure(error_rate=0.1)  # every tenth guest message answers 500
        with Traffic(bot.url) as traffic:
            prom.wait_for_series('http_requests_total{status="500"}')
            time.sleep(4)  # several scrapes of the rising counters: increase() needs two samples or more
        assert traffic.sent > 50
        config = base_config(slo={"availability": 0.999, "period": "1h", "policy": "enforce"})
        config["environments"]["production"]["health"]["prometheus_url"] = prom.url
        ws = make_workspace(tmp_path, config, clock=lambda: datetime.now(UTC))

        status = read_status(EnvLook(ws.config, "production", ws.redactor, ws.clock))

    # 10 % errors against a 0.1 % budget: 100x. increase() extrapolates both counters alike, so the ratio holds.
    assert status.budget.availability == pytest.approx(0.9, abs=0.03)
    assert status.budget.exhausted
    assert status.burn_rates["5m"] == pytest.approx(100, abs=30)
    assert [a.rule.name for a in status.fast_burn] == ["14.4x over 1h and 5m", "6x over 6h and 30m"]
    assert status.budget.counts.total > 0
