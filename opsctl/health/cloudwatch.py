"""ALB metrics from CloudWatch (``GetMetricData``): error rate and freshness.

boto3 is imported inside functions; the client has standard retries and
explicit timeouts, and ``endpoint_url`` (or boto3's own ``AWS_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL_CLOUDWATCH`` handling) points it at a local server in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput
from opsctl.health.client import ProbeError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

NAMESPACE = "AWS/ApplicationELB"
ERRORS = "HTTPCode_Target_5XX_Count"
REQUESTS = "RequestCount"
_KEYS = ("load_balancer", "target_group", "region", "endpoint_url", "profile")


@dataclass(frozen=True)
class AlbMetrics:
    """``health.cloudwatch`` of opsctl.yaml, checked."""

    load_balancer: str  # the LoadBalancer dimension: app/NAME/ID
    target_group: str | None = None  # the TargetGroup dimension: targetgroup/NAME/ID
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None

    @classmethod
    def from_config(cls, raw: Mapping[str, str], where: str) -> AlbMetrics:
        unknown = sorted(set(raw) - set(_KEYS))
        if unknown:
            raise BadInput(f"{where}: unknown key '{unknown[0]}' (known: {', '.join(_KEYS)})")
        if not raw.get("load_balancer"):
            raise BadInput(f"{where}.load_balancer is required (the ALB's app/NAME/ID)")
        return cls(**{k: raw.get(k) or None for k in _KEYS})  # type: ignore[arg-type]

    def dimensions(self) -> list[dict[str, str]]:
        dims = [{"Name": "LoadBalancer", "Value": self.load_balancer}]
        if self.target_group:
            dims.append({"Name": "TargetGroup", "Value": self.target_group})
        return dims


def make_client(alb: AlbMetrics) -> CloudWatchClient:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10)
    session = boto3.session.Session(profile_name=alb.profile, region_name=alb.region)
    try:
        return session.client("cloudwatch", endpoint_url=alb.endpoint_url, config=config)
    except NoRegionError:
        raise BadInput("no AWS region for CloudWatch: set health.cloudwatch.region or AWS_REGION") from None


def _series(
    client: CloudWatchClient, alb: AlbMetrics, names: tuple[str, ...], *, start: datetime, end: datetime, period: int
) -> dict[str, list[tuple[datetime, float]]]:
    """Sum datapoints of each metric name, following NextToken."""
    from botocore.exceptions import BotoCoreError, ClientError

    from opsctl.aws.errors import credential_problem, error_message

    queries: list[Any] = [
        {
            "Id": f"m{i}",
            "ReturnData": True,
            "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": name, "Dimensions": alb.dimensions()},
                "Period": period,
                "Stat": "Sum",
            },
        }
        for i, name in enumerate(names)
    ]
    found: dict[str, list[tuple[datetime, float]]] = {name: [] for name in names}
    token: str | None = None
    try:
        while True:
            if token:
                page = client.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end, NextToken=token)
            else:
                page = client.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)
            for result in page.get("MetricDataResults", []):
                name = names[int(result.get("Id", "m0")[1:])]
                found[name].extend(zip(result.get("Timestamps", []), result.get("Values", []), strict=False))
            token = page.get("NextToken")
            if not token:
                return found
    except (BotoCoreError, ClientError) as exc:
        problem = credential_problem(exc)
        if problem is not None:
            raise problem from None
        raise ProbeError(f"CloudWatch GetMetricData failed: {error_message(exc)}") from None


def error_rate(
    client: CloudWatchClient, alb: AlbMetrics, window: float, now: datetime
) -> tuple[float | None, dict[str, Any], str]:
    """(5xx / requests over ``window``, counts, why-no-data). The ALB omits 5xx datapoints when zero."""
    period = max(60, -(-int(window) // 60) * 60)
    series = _series(client, alb, (ERRORS, REQUESTS), start=now - timedelta(seconds=window), end=now, period=period)
    requests = sum(v for _, v in series[REQUESTS])
    errors = sum(v for _, v in series[ERRORS])
    counts = {"errors": errors, "requests": requests}
    if requests <= 0:
        return None, counts, f"CloudWatch has no {REQUESTS} for {alb.load_balancer} in the window"
    return errors / requests, counts, ""


def newest_age(client: CloudWatchClient, alb: AlbMetrics, max_age: float, now: datetime) -> float | None:
    """Seconds since the newest 1-minute RequestCount datapoint, looking back 2 x ``max_age``; None if none."""
    span = max(600.0, 2 * max_age)
    series = _series(client, alb, (REQUESTS,), start=now - timedelta(seconds=span), end=now, period=60)
    stamps = [ts for ts, _ in series[REQUESTS]]
    return (now - max(stamps)).total_seconds() if stamps else None
