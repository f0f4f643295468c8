"""Instant queries against the Prometheus HTTP API (``GET /api/v1/query``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from opsctl.health.client import HealthClient, ProbeError

# `or vector(0)`: with no 5xx series at all the numerator is empty, and an
# empty numerator would make a perfectly healthy service look like "no data".
# No traffic at all (empty denominator) still gives no data, as it should.
DEFAULT_ERROR_QUERY = (
    '(sum(rate(http_requests_total{status=~"5.."}[{window}])) or vector(0)) / sum(rate(http_requests_total[{window}]))'
)
# The time of the newest scrape of any target.
DEFAULT_FRESH_QUERY = "max(timestamp(up))"
# The busiest pool's utilization, from the bot's own gauges.
DEFAULT_POOL_QUERY = "max(hvb_db_pool_in_use / hvb_db_pool_size)"


@dataclass(frozen=True)
class PromValue:
    """One number from an instant query; ``value`` None means no data (``why`` says why)."""

    value: float | None
    evaluated_at: float | None  # the server's evaluation time (Unix seconds)
    why: str = ""


def promql_duration(seconds: float) -> str:
    return f"{max(1, round(seconds))}s"


def with_window(query: str, seconds: float) -> str:
    """Replace ``{window}`` (PromQL itself uses braces, so no str.format)."""
    return query.replace("{window}", promql_duration(seconds))


def instant_query(client: HealthClient, query: str) -> PromValue:
    """Run ``query``; raises ProbeError when Prometheus cannot be asked or rejects the query."""
    reply = client.get("/api/v1/query", params={"query": query})
    try:
        body = reply.json()
    except ValueError:
        raise ProbeError(f"Prometheus at {client.base_url} did not answer JSON (HTTP {reply.status})") from None
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error", "") if isinstance(body, dict) else ""
        if error:
            raise ProbeError(f"Prometheus rejected the query: {error}")
        raise ProbeError(reply.describe_status())
    data = body.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list):
        pair = result
    elif kind == "vector" and isinstance(result, list):
        if not result:
            return PromValue(None, None, f"the query returned no series: {query}")
        if len(result) > 1:
            why = f"the query returned {len(result)} series; aggregate it to one, e.g. with max()"
            return PromValue(None, None, why)
        pair = result[0].get("value") or []
    else:
        return PromValue(None, None, f"the query returned a {kind}; it must give an instant vector or a scalar")
    try:
        at, value = float(pair[0]), float(pair[1])
    except (IndexError, TypeError, ValueError):
        return PromValue(None, None, f"unreadable sample in the answer: {pair!r}")
    if math.isnan(value):
        return PromValue(None, at, "the query returned NaN (no requests in the window?)")
    return PromValue(value, at)
