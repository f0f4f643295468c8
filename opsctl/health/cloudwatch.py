"""ALB metrics from CloudWatch (``GetMetricData``): requests, 5xx, p95 latency, freshness.

The load balancer's own 5xx (``HTTPCode_ELB_5XX_Count``: the 502/503 it answers
when new tasks crash) count as errors next to the targets' 5xx; that metric
exists per load balancer only, the others per target group when one is set.
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
from opsctl.values.durations import DurationError, parse_duration

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

NAMESPACE = "AWS/ApplicationELB"
ERRORS = "HTTPCode_Target_5XX_Count"
ELB_ERRORS = "HTTPCode_ELB_5XX_Count"
REQUESTS = "RequestCount"
LATENCY = "TargetResponseTime"
_KEYS = (
    "load_balancer",
    "target_group",
    "region",
    "endpoint_url",
    "profile",
    "alarm_prefix",
    "alarm_names",
    "delay",
)
DEFAULT_DELAY = 60.0  # the ALB publishes once a minute; a window's datapoints arrive after it ends


@dataclass(frozen=True)
class Query:
    """One metric and statistic to read: ``Sum`` of a count, ``p95`` of a latency."""

    name: str
    stat: str = "Sum"
    lb_only: bool = False  # the metric exists per load balancer only (ELB 5xx)


@dataclass(frozen=True)
class AlbMetrics:
    """``health.cloudwatch`` of opsctl.yaml, checked."""

    load_balancer: str  # the LoadBalancer dimension: app/NAME/ID
    target_group: str | None = None  # the TargetGroup dimension: targetgroup/NAME/ID
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    alarm_prefix: str | None = None
    alarm_names: tuple[str, ...] = ()
    delay: float = DEFAULT_DELAY

    @classmethod
    def from_config(cls, raw: Mapping[str, str | list[str]], where: str) -> AlbMetrics:
        unknown = sorted(set(raw) - set(_KEYS))
        if unknown:
            raise BadInput(f"{where}: unknown key '{unknown[0]}' (known: {', '.join(_KEYS)})")
        if not raw.get("load_balancer"):
            raise BadInput(f"{where}.load_balancer is required (the ALB's app/NAME/ID)")
        texts: dict[str, Any] = {}
        for key in ("load_balancer", "target_group", "region", "endpoint_url", "profile", "alarm_prefix"):
            value = raw.get(key)
            if isinstance(value, list):
                raise BadInput(f"{where}.{key} must be text, not a list")
            texts[key] = value or None
        names = raw.get("alarm_names") or []
        if isinstance(names, str):
            names = [names]
        try:
            delay = parse_duration(str(raw["delay"])) if raw.get("delay") is not None else DEFAULT_DELAY
        except DurationError as exc:
            raise BadInput(f"{where}.delay {exc}") from None
        return cls(**texts, alarm_names=tuple(names), delay=delay)

    def dimensions(self, *, lb_only: bool = False) -> list[dict[str, str]]:
        dims = [{"Name": "LoadBalancer", "Value": self.load_balancer}]
        if self.target_group and not lb_only:
            dims.append({"Name": "TargetGroup", "Value": self.target_group})
        return dims

    @property
    def name(self) -> str:
        """What messages call it: the target group when set, else the load balancer."""
        return self.target_group or self.load_balancer


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


def aws_failure(exc: Exception, what: str) -> Exception:
    """A credential problem as its OpsctlError, anything else as a ProbeError naming ``what``."""
    from opsctl.aws.errors import credential_problem, error_message

    problem = credential_problem(exc)
    if problem is not None:
        return problem
    return ProbeError(f"CloudWatch {what} failed: {error_message(exc)}")


def series(
    client: CloudWatchClient,
    alb: AlbMetrics,
    queries: tuple[Query, ...],
    *,
    start: datetime,
    end: datetime,
    period: int,
) -> dict[Query, list[tuple[datetime, float]]]:
    """The datapoints of each query, following NextToken."""
    from botocore.exceptions import BotoCoreError, ClientError

    wanted: list[Any] = [
        {
            "Id": f"m{i}",
            "ReturnData": True,
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": q.name,
                    "Dimensions": alb.dimensions(lb_only=q.lb_only),
                },
                "Period": period,
                "Stat": q.stat,
            },
        }
        for i, q in enumerate(queries)
    ]
    try:
        points = metric_data(client, wanted, start=start, end=end)
    except (BotoCoreError, ClientError) as exc:
        raise aws_failure(exc, "GetMetricData") from None
    return {q: points[i] for i, q in enumerate(queries)}


MAX_PAGES = 100  # GetMetricData pages of one read; an endpoint that never stops paging is an error, not a hang


def metric_data(
    client: Any, queries: list[Any], *, start: datetime, end: datetime
) -> list[list[tuple[datetime, float]]]:
    """The datapoints of each of ``queries`` (by their ``Id``), following NextToken at most MAX_PAGES times.

    botocore errors pass through for the caller to name; ProbeError when the pages do not end.
    """
    found: list[list[tuple[datetime, float]]] = [[] for _ in queries]
    ids = {str(q["Id"]): i for i, q in enumerate(queries)}
    more: dict[str, Any] = {}
    for _ in range(MAX_PAGES):
        page = client.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end, **more)
        for result in page.get("MetricDataResults", []):
            index = ids.get(str(result.get("Id")))
            if index is None:
                continue  # an id we did not ask for: nothing of ours
            pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
            found[index].extend((ts, float(v)) for ts, v in pairs if v is not None)
        token = page.get("NextToken")
        if not token:
            return found
        more = {"NextToken": token}
    raise ProbeError(f"CloudWatch GetMetricData was still paging after {MAX_PAGES} pages")


def period_for(seconds: float) -> int:
    """CloudWatch periods of standard metrics are whole minutes."""
    return max(60, -(-int(seconds) // 60) * 60)


def error_rate(
    client: CloudWatchClient, alb: AlbMetrics, window: float, now: datetime
) -> tuple[float | None, dict[str, Any], str]:
    """(5xx / requests over ``window``, counts, why-no-data). The ALB omits 5xx datapoints when zero."""
    target, elb, requests_q = Query(ERRORS), Query(ELB_ERRORS, lb_only=True), Query(REQUESTS)
    found = series(
        client,
        alb,
        (target, elb, requests_q),
        start=now - timedelta(seconds=window),
        end=now,
        period=period_for(window),
    )
    requests = sum(v for _, v in found[requests_q])
    errors = sum(v for _, v in found[target]) + sum(v for _, v in found[elb])
    counts = {"errors": errors, "requests": requests}
    if requests <= 0 and errors <= 0:
        return None, counts, f"CloudWatch has no {REQUESTS} for {alb.load_balancer} in the window"
    # ELB 5xx for requests no target was chosen for are not in RequestCount: cap at 100 %.
    return min(1.0, errors / max(requests, errors)), counts, ""


def newest_age(client: CloudWatchClient, alb: AlbMetrics, max_age: float, now: datetime) -> float | None:
    """Seconds since the newest 1-minute RequestCount datapoint, looking back 2 x ``max_age``; None if none."""
    span = max(600.0, 2 * max_age)
    requests_q = Query(REQUESTS)
    found = series(client, alb, (requests_q,), start=now - timedelta(seconds=span), end=now, period=60)
    stamps = [ts for ts, _ in found[requests_q]]
    return (now - max(stamps)).total_seconds() if stamps else None
