"""The Prometheus HTTP API: instant queries (``/api/v1/query``) and range queries (``/api/v1/query_range``).

A small, reusable API: :func:`query` (every series of an instant vector, at a
given time), :func:`instant_query` (exactly one number), :func:`query_range`
(series of ``(time, value)`` pairs). Each raises :class:`ProbeError` when
Prometheus cannot be asked or rejects the query; an empty answer is data too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class Sample:
    """One series of an instant vector: its labels and value at the evaluation time."""

    labels: dict[str, str]
    value: float
    at: float


@dataclass(frozen=True)
class Series:
    """One series of a range query: its labels and ``(unix time, value)`` points."""

    labels: dict[str, str]
    points: list[tuple[float, float]] = field(default_factory=list)


def _ask(client: HealthClient, path: str, params: dict[str, str]) -> dict[str, Any]:
    """The ``data`` of a successful answer; ProbeError otherwise."""
    reply = client.get(path, params=params)
    try:
        body = reply.json()
    except ValueError:
        raise ProbeError(f"Prometheus at {client.base_url} did not answer JSON (HTTP {reply.status})") from None
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error", "") if isinstance(body, dict) else ""
        if error:
            raise ProbeError(f"Prometheus rejected the query: {error}")
        raise ProbeError(reply.describe_status())
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def _time_params(query: str, at: float | None) -> dict[str, str]:
    params = {"query": query}
    if at is not None:
        params["time"] = f"{at:.3f}"
    return params


def query(client: HealthClient, promql: str, at: float | None = None) -> list[Sample]:
    """Every series of the instant vector ``promql`` evaluated at ``at`` (Unix seconds; default: now).

    A scalar answer is one sample without labels; NaN values are dropped (no data, e.g. 0/0).
    """
    data = _ask(client, "/api/v1/query", _time_params(promql, at))
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list):
        rows: list[Any] = [{"metric": {}, "value": result}]
    elif kind == "vector" and isinstance(result, list):
        rows = result
    else:
        raise ProbeError(f"the query returned a {kind}; it must give an instant vector or a scalar")
    samples = []
    for row in rows:
        if not isinstance(row, dict):
            raise ProbeError(f"unreadable series in the answer: {row!r}")
        pair = row.get("value") or []
        try:
            sample = Sample(dict(row.get("metric") or {}), float(pair[1]), float(pair[0]))
        except (IndexError, TypeError, ValueError):
            raise ProbeError(f"unreadable sample in the answer: {pair!r}") from None
        if not math.isnan(sample.value):
            samples.append(sample)
    return samples


def query_range(client: HealthClient, promql: str, start: float, end: float, step: float) -> list[Series]:
    """``promql`` evaluated every ``step`` seconds from ``start`` to ``end`` (Unix seconds)."""
    params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{max(step, 0.001):g}"}
    data = _ask(client, "/api/v1/query_range", params)
    if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        raise ProbeError(f"the range query returned a {data.get('resultType')}, not a matrix")
    found = []
    for row in data["result"]:
        if not isinstance(row, dict):
            raise ProbeError(f"unreadable series in the range answer: {row!r}")
        try:
            points = [(float(t), float(v)) for t, v in row.get("values") or []]
        except (TypeError, ValueError):
            raise ProbeError("unreadable points in the range answer") from None
        found.append(Series(dict(row.get("metric") or {}), [p for p in points if not math.isnan(p[1])]))
    return found


def instant_query(client: HealthClient, query: str, at: float | None = None) -> PromValue:
    """Run ``query`` for exactly one number; raises ProbeError when Prometheus cannot be asked or rejects it."""
    data = _ask(client, "/api/v1/query", _time_params(query, at))
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
        at_, value = float(pair[0]), float(pair[1])
    except (IndexError, TypeError, ValueError):
        return PromValue(None, None, f"unreadable sample in the answer: {pair!r}")
    if math.isnan(value):
        return PromValue(None, at_, "the query returned NaN (no requests in the window?)")
    return PromValue(value, at_)
