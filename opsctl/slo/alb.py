"""Request counts from CloudWatch ALB metrics: RequestCount vs HTTPCode_ELB_5XX_Count + HTTPCode_Target_5XX_Count.

The 502/503/504 the load balancer returns itself (no healthy target, a task
that crashed mid-request) are the bad-deploy case, so they count as bad
requests. ``HTTPCode_ELB_5XX_Count`` has no ``TargetGroup`` dimension in
CloudWatch: it is read for the load balancer, the other two for the
service's target group when one is configured.

boto3 comes through :func:`opsctl.health.cloudwatch.make_client` (timeouts,
standard retries, ``endpoint_url`` / ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from opsctl.errors import Unavailable
from opsctl.slo.budget import Counts

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

    from opsctl.health.cloudwatch import AlbMetrics

NAMESPACE = "AWS/ApplicationELB"
REQUESTS = "RequestCount"
ELB_5XX = "HTTPCode_ELB_5XX_Count"
TARGET_5XX = "HTTPCode_Target_5XX_Count"
DAY = 86400.0


def period_for(seconds: float, start: datetime, now: datetime) -> int:
    """A GetMetricData period covering ``seconds`` that CloudWatch accepts for data starting at ``start``.

    CloudWatch keeps 1-minute data for 15 days and 5-minute data for 63 days;
    beyond those, the period must be a multiple of 300 s and 3600 s.
    """
    age = (now - start).total_seconds()
    unit = 3600 if age > 63 * DAY else 300 if age > 15 * DAY else 60
    return max(unit, math.ceil(seconds / unit) * unit)


class AlbCounts:
    """A :class:`~opsctl.slo.counts.CounterSource` over CloudWatch ``GetMetricData``."""

    kind = "cloudwatch"

    def __init__(self, client: CloudWatchClient, alb: AlbMetrics, now: datetime) -> None:
        self._client = client
        self._alb = alb
        self._now = now

    @property
    def label(self) -> str:
        group = f" / {self._alb.target_group}" if self._alb.target_group else ""
        return f"CloudWatch ALB {self._alb.load_balancer}{group}"

    def counts(self, window_s: float, at: datetime) -> Counts:
        start = at - timedelta(seconds=window_s)
        found = self._sums(start, at, period_for(window_s, start, self._now))
        total = sum(v for _, v in found[REQUESTS])
        bad = sum(v for _, v in found[ELB_5XX]) + sum(v for _, v in found[TARGET_5XX])
        return Counts(total, bad) if total > 0 else Counts(0.0, 0.0)

    def bad_series(self, start: datetime, end: datetime, step_s: float) -> list[tuple[datetime, float]]:
        step = period_for(step_s, start, self._now)
        found = self._sums(start, end, step, names=(ELB_5XX, TARGET_5XX))
        per_end: dict[datetime, float] = {}
        for name in (ELB_5XX, TARGET_5XX):
            for stamp, value in found[name]:
                end_of = stamp + timedelta(seconds=step)  # CloudWatch stamps a period by its start
                per_end[end_of] = per_end.get(end_of, 0.0) + value
        return sorted(per_end.items())

    def close(self) -> None:
        self._client.close()

    def _dimensions(self, name: str) -> list[dict[str, str]]:
        if name == ELB_5XX:
            return [{"Name": "LoadBalancer", "Value": self._alb.load_balancer}]
        return self._alb.dimensions()

    def _sums(
        self, start: datetime, end: datetime, period: int, names: tuple[str, ...] = (REQUESTS, ELB_5XX, TARGET_5XX)
    ) -> dict[str, list[tuple[datetime, float]]]:
        """The Sum datapoints of each metric in ``[start, end)``, following NextToken."""
        from botocore.exceptions import BotoCoreError, ClientError

        from opsctl.aws.errors import credential_problem, error_message
        from opsctl.health.client import ProbeError
        from opsctl.health.cloudwatch import metric_data

        queries: list[Any] = [
            {
                "Id": f"m{i}",
                "ReturnData": True,
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": name, "Dimensions": self._dimensions(name)},
                    "Period": period,
                    "Stat": "Sum",
                },
            }
            for i, name in enumerate(names)
        ]
        try:
            points = metric_data(self._client, queries, start=start, end=end)
        except (BotoCoreError, ClientError) as exc:
            problem = credential_problem(exc)
            if problem is not None:
                raise problem from None
            raise Unavailable(f"CloudWatch GetMetricData failed: {error_message(exc)}") from None
        except ProbeError as exc:
            raise Unavailable(str(exc)) from None
        return {name: points[i] for i, name in enumerate(names)}
