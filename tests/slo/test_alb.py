"""Request counts from CloudWatch ALB metrics, against a moto server (PutMetricData of ALB-shaped data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opsctl.errors import Unavailable
from opsctl.health.cloudwatch import AlbMetrics, make_client
from opsctl.slo.alb import AlbCounts, period_for
from opsctl.slo.budget import Counts
from tests.support import moto_server as aws_support
from tests.support.moto_server import MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws

LB = "app/hvb-production/50dc6c495c0c9188"
TG = "targetgroup/hvb-bot/73e2d6bc24d8a067"
OTHER_TG = "targetgroup/other-service/1111111111111111"


def put(aws: MotoServer, name: str, value: float, *, ago: float, group: str | None = TG) -> None:
    dims = [{"Name": "LoadBalancer", "Value": LB}]
    if group:
        dims.append({"Name": "TargetGroup", "Value": group})
    stamp = datetime.now(UTC) - timedelta(seconds=ago)
    data: list[Any] = [{"MetricName": name, "Dimensions": dims, "Timestamp": stamp, "Value": value, "Unit": "Count"}]
    aws.client("cloudwatch").put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)


def counts_source(aws: MotoServer, now: datetime, *, group: str | None = TG) -> AlbCounts:
    alb = AlbMetrics(load_balancer=LB, target_group=group, region=aws.region, endpoint_url=aws.endpoint_url)
    return AlbCounts(make_client(alb), alb, now)


def test_elb_and_target_5xx_both_count_against_the_target_groups_requests(aws: MotoServer) -> None:
    put(aws, "RequestCount", 1000, ago=90)
    put(aws, "HTTPCode_Target_5XX_Count", 5, ago=90)
    put(aws, "HTTPCode_ELB_5XX_Count", 3, ago=90, group=None)  # CloudWatch has it per load balancer only
    put(aws, "RequestCount", 7000, ago=90, group=OTHER_TG)  # another service behind the same ALB
    put(aws, "HTTPCode_Target_5XX_Count", 700, ago=90, group=OTHER_TG)
    now = datetime.now(UTC)

    counts = counts_source(aws, now).counts(300, now)

    assert counts == Counts(1000.0, 8.0)


def test_older_datapoints_are_outside_a_short_window_but_inside_a_long_one(aws: MotoServer) -> None:
    put(aws, "RequestCount", 400, ago=90)
    put(aws, "RequestCount", 600, ago=2 * 3600)
    put(aws, "HTTPCode_ELB_5XX_Count", 6, ago=2 * 3600, group=None)  # the old release crashing, two hours ago
    now = datetime.now(UTC)
    source = counts_source(aws, now)

    assert source.counts(300, now) == Counts(400.0, 0.0)
    assert source.counts(6 * 3600, now) == Counts(1000.0, 6.0)


def test_no_requests_is_no_traffic(aws: MotoServer) -> None:
    now = datetime.now(UTC)
    assert counts_source(aws, now).counts(3600, now) == Counts(0.0, 0.0)


def test_bad_series_adds_both_5xx_metrics_per_bucket(aws: MotoServer) -> None:
    put(aws, "HTTPCode_Target_5XX_Count", 2, ago=30 * 60)
    put(aws, "HTTPCode_ELB_5XX_Count", 3, ago=30 * 60, group=None)
    put(aws, "HTTPCode_Target_5XX_Count", 4, ago=150 * 60)
    now = datetime.now(UTC)

    points = counts_source(aws, now).bad_series(now - timedelta(hours=3), now, 3600)

    assert sorted(v for _, v in points) == [4.0, 5.0]
    assert all(now - timedelta(hours=3) < end_of <= now + timedelta(hours=1) for end_of, _ in points)


def test_an_unreachable_cloudwatch_is_unavailable() -> None:
    alb = AlbMetrics(load_balancer=LB, region="eu-west-1", endpoint_url="http://127.0.0.1:9")
    now = datetime.now(UTC)
    source = AlbCounts(make_client(alb), alb, now)
    with pytest.raises(Unavailable) as caught:
        source.counts(300, now)
    assert str(caught.value).startswith("CloudWatch GetMetricData failed: Could not connect to the endpoint URL")


@pytest.mark.parametrize(
    ("seconds", "age_days", "period"),
    [(300, 0, 300), (90, 0, 120), (3 * 86400, 3, 259200), (30 * 86400, 30, 2592000), (1000, 20, 1200), (100, 70, 3600)],
)
def test_periods_follow_cloudwatch_retention(seconds: float, age_days: float, period: int) -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    assert period_for(seconds, now - timedelta(days=age_days), now) == period
