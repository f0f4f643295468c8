"""ALB-shaped CloudWatch data on the moto server, and extended statistics (``p95``) moto does not compute.

moto stores every value ``PutMetricData`` sends but answers only Sum, Average,
Minimum, Maximum and SampleCount; :func:`percentiles` (a fixture) teaches the
in-process moto server ``pNN`` over the stored values (nearest rank, as
CloudWatch documents for raw values), so opsctl's real ``GetMetricData``
call with ``Stat: p95`` is answered over HTTP like the real service would.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pytest

from tests.support.moto_server import MotoServer

NAMESPACE = "AWS/ApplicationELB"


def _percentile(values: list[float], stat: str) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(float(stat[1:]) / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@pytest.fixture
def percentiles(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.cloudwatch.models import Statistics

    plain = Statistics.get_statistics_for_type

    def with_percentiles(self: Any, stat: str) -> Any:
        if stat.startswith("p") and stat[1:].replace(".", "", 1).isdigit():
            return _percentile(self.metric_single_values_list, stat)
        return plain(self, stat)

    monkeypatch.setattr(Statistics, "get_statistics_for_type", with_percentiles)


def put_alb(
    aws: MotoServer,
    *,
    lb: str,
    tg: str | None,
    at: datetime,
    requests: int,
    target_5xx: int = 0,
    elb_5xx: int = 0,
    latency_s: float = 0.1,
) -> None:
    """One minute of an ALB as CloudWatch holds it: per target group, and ELB 5xx per load balancer only."""
    lb_dims = [{"Name": "LoadBalancer", "Value": lb}]
    dims = lb_dims + ([{"Name": "TargetGroup", "Value": tg}] if tg else [])
    data: list[dict[str, Any]] = [
        {"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": at, "Value": requests, "Unit": "Count"},
        {
            "MetricName": "TargetResponseTime",
            "Dimensions": dims,
            "Timestamp": at,
            "Values": [latency_s],
            "Counts": [requests],
            "Unit": "Seconds",
        },
    ]
    if target_5xx:  # the ALB omits zero counts
        data.append(
            {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims, "Timestamp": at, "Value": target_5xx}
        )
    if elb_5xx:
        data.append({"MetricName": "HTTPCode_ELB_5XX_Count", "Dimensions": lb_dims, "Timestamp": at, "Value": elb_5xx})
    aws.client("cloudwatch").put_metric_data(Namespace=NAMESPACE, MetricData=data)
