"""Real traffic from CloudWatch ALB metrics: one window's requests, 5xx and p95 for the service's target group.

p95 is ``TargetResponseTime`` with the extended statistic ``p95`` (seconds);
errors are ``HTTPCode_ELB_5XX_Count + HTTPCode_Target_5XX_Count``; requests
``RequestCount``. ELB 5xx for requests that reached no target are not in
``RequestCount``, so the request total is at least the error count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsctl.health import cloudwatch
from opsctl.health.client import ProbeError
from opsctl.health.cloudwatch import AlbMetrics, Query
from opsctl.health.traffic import Traffic
from opsctl.health.window import Window

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

_REQUESTS = Query(cloudwatch.REQUESTS)
_TARGET_5XX = Query(cloudwatch.ERRORS)
_ELB_5XX = Query(cloudwatch.ELB_ERRORS, lb_only=True)
_P95 = Query(cloudwatch.LATENCY, "p95")


@dataclass
class AlbTraffic:
    """Reads windows of one ALB target group's traffic."""

    client: CloudWatchClient
    alb: AlbMetrics

    @property
    def settle(self) -> float:
        return self.alb.delay

    def read(self, window: Window, *, latency: bool) -> Traffic:
        label = f"CloudWatch {self.alb.name}, {window.describe()}"
        queries = (_REQUESTS, _TARGET_5XX, _ELB_5XX, *((_P95,) if latency else ()))
        try:
            found = cloudwatch.series(
                self.client,
                self.alb,
                queries,
                start=window.start,
                end=window.end,
                period=cloudwatch.period_for(window.seconds),
            )
        except ProbeError as exc:
            return Traffic.failed(label, str(exc))
        errors = sum(v for _, v in found[_TARGET_5XX]) + sum(v for _, v in found[_ELB_5XX])
        requests = max(sum(v for _, v in found[_REQUESTS]), errors)
        p95_ms = None
        if latency and found[_P95]:
            # One datapoint per period; over several, the worst period speaks for the window.
            p95_ms = max(v for _, v in found[_P95]) * 1000
        detail = {"elb_5xx": round(sum(v for _, v in found[_ELB_5XX]))}
        return Traffic(label, requests, errors, p95_ms, detail=detail)
