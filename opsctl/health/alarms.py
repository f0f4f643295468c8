"""CloudWatch alarms of the service (``DescribeAlarms`` by name prefix or names): they exist and have data.

An alarm in ``INSUFFICIENT_DATA`` watches a metric nobody sends: it would
never fire, so it fails the check. An alarm in ``ALARM`` is alerting working
(it is named in the summary, and does not fail this check).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from opsctl.engine.outcome import Outcome
from opsctl.health.client import ProbeError
from opsctl.health.cloudwatch import MAX_PAGES, AlbMetrics, aws_failure

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

NO_DATA = "INSUFFICIENT_DATA"


def describe(client: CloudWatchClient, alb: AlbMetrics) -> dict[str, str]:
    """Alarm name -> state of the configured alarms (prefix and names), following NextToken."""
    from botocore.exceptions import BotoCoreError, ClientError

    asks: list[dict[str, Any]] = []
    if alb.alarm_prefix:
        asks.append({"AlarmNamePrefix": alb.alarm_prefix})
    if alb.alarm_names:
        asks.append({"AlarmNames": list(alb.alarm_names)})
    states: dict[str, str] = {}
    try:
        for ask in asks:
            more: dict[str, Any] = {}
            for _ in range(MAX_PAGES):  # an endpoint that never stops paging is an error, not a hang
                page = client.describe_alarms(**ask, **more)
                for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                    states[str(alarm.get("AlarmName"))] = str(alarm.get("StateValue"))
                token = page.get("NextToken")
                if not token:
                    break
                more = {"NextToken": token}
            else:
                raise ProbeError(f"CloudWatch DescribeAlarms was still paging after {MAX_PAGES} pages")
    except (BotoCoreError, ClientError) as exc:
        raise aws_failure(exc, "DescribeAlarms") from None
    return states


def wanted(alb: AlbMetrics) -> str:
    """How the config names the alarms, for messages."""
    parts = []
    if alb.alarm_prefix:
        parts.append(f"prefix {alb.alarm_prefix!r}")
    if alb.alarm_names:
        parts.append("names " + ", ".join(alb.alarm_names))
    return " and ".join(parts)


def check_alarms(client: CloudWatchClient, alb: AlbMetrics) -> Outcome:
    """The configured alarms exist and none is INSUFFICIENT_DATA."""
    try:
        states = describe(client, alb)
    except ProbeError as exc:
        return Outcome.failed(str(exc), value="no answer")
    missing = [name for name in alb.alarm_names if name not in states]
    by_state = Counter(states.values())
    detail = {"alarms": states, "value": ", ".join(f"{n} {s}" for s, n in sorted(by_state.items())) or "none"}
    if not states:
        return Outcome.failed(f"CloudWatch has no alarms with {wanted(alb)}", **detail)
    if missing:
        return Outcome.failed(f"CloudWatch alarm {', '.join(missing)} does not exist", **detail)
    blind = sorted(name for name, state in states.items() if state == NO_DATA)
    if blind:
        return Outcome.failed(
            f"{len(blind)} of {len(states)} CloudWatch alarms have INSUFFICIENT_DATA: {', '.join(blind)}", **detail
        )
    firing = sorted(name for name, state in states.items() if state == "ALARM")
    shown = f" ({len(firing)} firing: {', '.join(firing)})" if firing else ""
    return Outcome.passed(f"{len(states)} CloudWatch alarms have data{shown}", **detail)
