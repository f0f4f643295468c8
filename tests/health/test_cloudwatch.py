"""CloudWatch (ALB metrics) as the source, against a moto server reached over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from opsctl.engine.outcome import Status
from opsctl.errors import BadInput
from opsctl.health import freshness, slo
from opsctl.health.params import ErrorRateParams, FreshParams
from tests.health.helpers import ctx_for
from tests.support import moto_server as aws_support
from tests.support.moto_server import MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws

LB = "app/hvb-staging/50dc6c495c0c9188"


def put(aws: MotoServer, *, requests: float, errors: float | None, ago: float = 90, lb: str = LB) -> None:
    stamp = datetime.now(UTC) - timedelta(seconds=ago)
    dims = [{"Name": "LoadBalancer", "Value": lb}]
    data: list[dict[str, Any]] = [
        {"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": stamp, "Value": requests, "Unit": "Count"}
    ]
    if errors is not None:
        data.append(
            {
                "MetricName": "HTTPCode_Target_5XX_Count",
                "Dimensions": dims,
                "Timestamp": stamp,
                "Value": errors,
                "Unit": "Count",
            }
        )
    aws.client("cloudwatch").put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)


def test_two_percent_5xx_fails(tmp_path: Path, aws: MotoServer) -> None:
    put(aws, requests=1000, errors=20)
    # No endpoint_url in the config: boto3 finds moto through AWS_ENDPOINT_URL.
    ctx = ctx_for(tmp_path, "http://bot.test", cloudwatch={"load_balancer": LB, "region": aws.region})
    outcome = slo.error_rate(ctx, ErrorRateParams())
    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        f"error rate 2.00% > 1.00% (CloudWatch {LB}, last 5m00s)",
    )
    assert (outcome.detail["errors"], outcome.detail["requests"]) == (20, 1000)


def test_no_5xx_datapoints_means_zero_errors(tmp_path: Path, aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    put(aws, requests=400, errors=None)  # the ALB omits HTTPCode_Target_5XX_Count when it is zero
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    ctx = ctx_for(
        tmp_path,
        "http://bot.test",
        cloudwatch={"load_balancer": LB, "region": aws.region, "endpoint_url": aws.endpoint_url},
    )
    outcome = slo.error_rate(ctx, ErrorRateParams())
    assert (outcome.status, outcome.summary) == (
        Status.PASSED,
        f"error rate 0.00% <= 1.00% (CloudWatch {LB}, last 5m00s)",
    )


def test_no_requests_is_no_data(tmp_path: Path, aws: MotoServer) -> None:
    put(aws, requests=1000, errors=0, lb="app/other/1")
    ctx = ctx_for(tmp_path, "http://bot.test", cloudwatch={"load_balancer": LB, "region": aws.region})
    outcome = slo.error_rate(ctx, ErrorRateParams())
    assert outcome.status is Status.FAILED
    assert outcome.summary == (
        f"no data: CloudWatch has no RequestCount for {LB} in the window (CloudWatch {LB}, last 5m00s)"
    )


def test_freshness_from_cloudwatch(tmp_path: Path, aws: MotoServer) -> None:
    ctx = ctx_for(tmp_path, "http://bot.test", cloudwatch={"load_balancer": LB, "region": aws.region})
    empty = freshness.fresh(ctx, FreshParams())
    assert (empty.status, empty.summary) == (Status.FAILED, f"no data: no RequestCount datapoint (CloudWatch {LB})")
    put(aws, requests=10, errors=None, ago=30)
    fresh = freshness.fresh(ctx, FreshParams())
    assert fresh.status is Status.PASSED
    assert fresh.summary.startswith("newest data is ")
    assert fresh.summary.endswith(f" old (CloudWatch {LB})")


def test_bad_cloudwatch_block_is_bad_input(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, "http://bot.test", cloudwatch={"region": "eu-west-1"})
    with pytest.raises(BadInput) as caught:
        slo.error_rate(ctx, ErrorRateParams())
    assert str(caught.value) == (
        "environments.staging.health.cloudwatch.load_balancer is required (the ALB's app/NAME/ID)"
    )
    ctx = ctx_for(tmp_path, "http://bot.test", cloudwatch={"load_balancer": LB, "namespace": "x"})
    with pytest.raises(BadInput) as unknown:
        slo.error_rate(ctx, ErrorRateParams())
    assert str(unknown.value) == (
        "environments.staging.health.cloudwatch: unknown key 'namespace' "
        "(known: load_balancer, target_group, region, endpoint_url, profile, alarm_prefix, alarm_names, delay)"
    )
