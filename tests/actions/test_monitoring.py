"""monitoring.alerting: a real Prometheus and Alertmanager, CloudWatch alarms on moto (issue 17 check 4)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsctl.engine.actions import get_action
from opsctl.engine.outcome import Status
from opsctl.health.params import AlertingParams
from opsctl.sandbox.bot import BotServer
from tests.health import helpers
from tests.health.helpers import ctx_for
from tests.support import moto_server as aws_support
from tests.support.alertmanager import AlertmanagerServer
from tests.support.context import make_ctx
from tests.support.moto_server import MotoServer
from tests.support.prometheus import PrometheusServer

bot = helpers.bot
moto_server = aws_support.moto_server
aws = aws_support.aws

LB = "app/hvb-staging/50dc6c495c0c9188"
RULES = [
    {
        "name": "hvb",
        "rules": [
            {
                "alert": "HvbHighErrorRate",
                "expr": 'sum(rate(http_requests_total{status=~"5.."}[1m])) > 1',
                "labels": {"service": "hotel-voice-bot", "severity": "page"},
            },
            {"alert": "HvbDown", "expr": 'up{job="hvb"} == 0', "labels": {"service": "hotel-voice-bot"}},
        ],
    }
]


def alerting(ctx: Any, **with_: Any) -> Any:
    return get_action("monitoring.alerting").fn(ctx, AlertingParams(**with_))


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[AlertmanagerServer]:
    with AlertmanagerServer.start(tmp_path) as server:
        yield server


def test_rules_and_receivers_loaded_pass(tmp_path: Path, bot: BotServer, alertmanager: AlertmanagerServer) -> None:
    with PrometheusServer.start(tmp_path, targets=[bot.url], rules=RULES, alertmanager=alertmanager.url) as prom:
        prom.wait_for_rules()
        prom.wait_for_series("up")
        ctx = ctx_for(tmp_path, bot.url, prometheus_url=prom.url, alertmanager_url=alertmanager.url)
        outcome = alerting(ctx)
    assert outcome.status is Status.PASSED, outcome.summary
    parts = outcome.summary.split("; ")
    assert re.fullmatch(r"newest data is \S+ old \(Prometheus\)", parts[0])
    assert parts[1:3] == ["2 alerting rules loaded and ok", "Prometheus sends to 1 Alertmanager(s)"]
    assert re.fullmatch(r"Alertmanager answers \(cluster \w+\) with receivers oncall", parts[3])
    assert outcome.detail["rules"]["status"] == "passed"


def test_alerting_fails_when_prometheus_has_no_rules_for_the_service(
    tmp_path: Path, bot: BotServer, alertmanager: AlertmanagerServer
) -> None:
    other = [{"name": "other", "rules": [{"alert": "OtherDown", "expr": "vector(0) > 1", "labels": {"service": "x"}}]}]
    with PrometheusServer.start(tmp_path, targets=[bot.url], rules=other, alertmanager=alertmanager.url) as prom:
        prom.wait_for_rules()
        prom.wait_for_series("up")
        ctx = ctx_for(tmp_path, bot.url, prometheus_url=prom.url)
        outcome = alerting(ctx)
        none = alerting(ctx, alert_labels={"team": "voice"})
    assert outcome.status is Status.FAILED
    assert outcome.summary.startswith(
        "Prometheus has no alerting rules for the service "
        "(1 alerting rules loaded, none with service=hotel-voice-bot); "
    ), outcome.summary
    assert none.summary.startswith(
        "Prometheus has no alerting rules for the service (1 alerting rules loaded, none with team=voice)"
    )


def test_prometheus_without_any_rules_or_alertmanager(tmp_path: Path, bot: BotServer) -> None:
    with PrometheusServer.start(tmp_path, targets=[bot.url]) as prom:
        prom.wait_for_series("up")
        bare = alerting(ctx_for(tmp_path, bot.url, prometheus_url=prom.url), fresh=False)
    assert (bare.status, bare.summary) == (
        Status.FAILED,
        "Prometheus has no alerting rules for the service (no alerting rules loaded)",
    )


def test_rules_without_an_alertmanager_to_send_to_fail(tmp_path: Path, bot: BotServer) -> None:
    with PrometheusServer.start(tmp_path, targets=[bot.url], rules=RULES) as prom:
        prom.wait_for_rules()
        outcome = alerting(ctx_for(tmp_path, bot.url, prometheus_url=prom.url), fresh=False)
    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        "2 alerting rules ok, but Prometheus sends alerts to no Alertmanager",
    )


def test_alertmanager_without_a_delivering_receiver_fails(tmp_path: Path, bot: BotServer) -> None:
    with AlertmanagerServer.start(tmp_path, deliver=False) as am:
        outcome = alerting(ctx_for(tmp_path, bot.url, alertmanager_url=am.url), fresh=False)
    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        "Alertmanager has no receiver that sends anywhere (receivers: blackhole)",
    )


def test_unreachable_alertmanager_fails(tmp_path: Path, bot: BotServer) -> None:
    outcome = alerting(ctx_for(tmp_path, bot.url, alertmanager_url="http://127.0.0.1:9"), fresh=False, retries=0)
    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        "Alertmanager: cannot connect to http://127.0.0.1:9/api/v2/status: connection refused",
    )


def alarm(aws: MotoServer, name: str, state: str | None = None) -> None:
    client = aws.client("cloudwatch")
    client.put_metric_alarm(
        AlarmName=name,
        MetricName="HTTPCode_ELB_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "LoadBalancer", "Value": LB}],
    )
    if state is not None:
        client.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


def test_cloudwatch_alarms_exist_and_have_data(tmp_path: Path, bot: BotServer, aws: MotoServer) -> None:
    alarm(aws, "hvb-staging-5xx")
    alarm(aws, "hvb-staging-latency", "ALARM")
    alarm(aws, "other-service-5xx", "INSUFFICIENT_DATA")
    cloudwatch = {"load_balancer": LB, "region": aws.region, "alarm_prefix": "hvb-staging-"}
    ctx = ctx_for(tmp_path, bot.url, cloudwatch=cloudwatch)
    outcome = alerting(ctx, fresh=False)
    assert (outcome.status, outcome.summary) == (
        Status.PASSED,
        "2 CloudWatch alarms have data (1 firing: hvb-staging-latency)",
    )
    alarm(aws, "hvb-staging-db", "INSUFFICIENT_DATA")
    blind = alerting(ctx, fresh=False)
    assert (blind.status, blind.summary) == (
        Status.FAILED,
        "1 of 3 CloudWatch alarms have INSUFFICIENT_DATA: hvb-staging-db",
    )
    named = ctx_for(tmp_path, bot.url, cloudwatch={**cloudwatch, "alarm_prefix": "", "alarm_names": ["hvb-gone"]})
    assert alerting(named, fresh=False).summary == "CloudWatch has no alarms with names hvb-gone"
    nothing = ctx_for(tmp_path, bot.url, cloudwatch={**cloudwatch, "alarm_prefix": "nope-"})
    assert alerting(nothing, fresh=False).summary == "CloudWatch has no alarms with prefix 'nope-'"


def test_without_an_alerting_source_only_freshness_is_checked(tmp_path: Path, bot: BotServer) -> None:
    shape = (
        rf"{bot.url}/metrics exposes \d+ samples of \d+ metrics; alerting not verified: set health.prometheus_url, "
        r"health.alertmanager_url or health.cloudwatch.alarm_prefix / alarm_names"
    )
    staging = alerting(ctx_for(tmp_path, bot.url))
    assert staging.status is Status.PASSED
    assert re.fullmatch(shape, staging.summary)
    config = helpers.config_for(bot.url)
    config["environments"]["production"]["health"] = {"base_url": bot.url}
    production = alerting(make_ctx(tmp_path, config, env="production"))
    assert production.status is Status.WARNED  # a protected environment without verified alerting
    assert re.fullmatch(shape, production.summary)
