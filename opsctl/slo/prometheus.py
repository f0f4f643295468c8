"""Request counters from Prometheus: ``increase(http_requests_total[W])``, all vs status class 5xx.

The PromQL is the real-traffic probes' own (:class:`opsctl.health.promql.TrafficQueries`),
so the counter, its status label and the series selector of
``health.prometheus`` mean the same here as in post-deploy verification. The
bad query ends in ``or vector(0)``: a service that never failed has no 5xx
series at all, and that is a perfect record, not missing data. No
``version`` filter: the budget belongs to the service, whatever release runs.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput, Unavailable
from opsctl.slo.budget import Counts

if TYPE_CHECKING:
    from opsctl.health.client import HealthClient
    from opsctl.health.promql import TrafficQueries


class PrometheusCounts:
    """A :class:`~opsctl.slo.counts.CounterSource` over the Prometheus HTTP API."""

    kind = "prometheus"

    def __init__(self, client: HealthClient, queries: TrafficQueries) -> None:
        self._client = client
        self.queries = queries

    @property
    def label(self) -> str:
        return f"Prometheus {self._client.base_url} ({self.queries.series.counter})"

    def counts(self, window_s: float, at: datetime) -> Counts:
        total = self._instant(self.queries.requests(window_s), at)
        if total is None or total <= 0:
            return Counts(0.0, 0.0)
        bad = self._instant(self.queries.errors(window_s), at) or 0.0
        return Counts(total, bad)

    def bad_series(self, start: datetime, end: datetime, step_s: float) -> list[tuple[datetime, float]]:
        query = self.queries.errors(step_s)
        # A range point at t is the increase over (t - step, t]: the first bucket ends at start + step.
        first = start + timedelta(seconds=step_s)
        params = {"query": query, "start": _unix(first), "end": _unix(end), "step": _duration(step_s)}
        data = self._ask("/api/v1/query_range", params, query)
        points: list[tuple[datetime, float]] = []
        for series in data.get("result") or []:
            try:
                for stamp, value in series.get("values") or []:
                    number = _number(value)
                    if number is not None:
                        points.append((datetime.fromtimestamp(float(stamp), UTC), number))
            except (AttributeError, TypeError, ValueError, OverflowError, OSError):
                raise Unavailable(
                    f"{self._where} answered a range series that is not readable: {_shown(series)}"
                ) from None
        return sorted(points)

    def close(self) -> None:
        self._client.close()

    def _instant(self, query: str, at: datetime) -> float | None:
        data = self._ask("/api/v1/query", {"query": query, "time": _unix(at)}, query)
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar" and isinstance(result, list) and len(result) == 2:
            return _number(result[1])
        if kind != "vector" or not isinstance(result, list):
            raise BadInput(f"Prometheus answered a {kind} to {query}; expected an instant vector")
        if not result:
            return None
        first = result[0]
        pair = first.get("value") if isinstance(first, dict) else None
        if not isinstance(pair, list) or len(pair) != 2:
            raise Unavailable(f"{self._where} answered a series that is not a sample: {_shown(first)}")
        return _number(pair[1])

    @property
    def _where(self) -> str:
        return f"Prometheus at {self._client.base_url}"

    def _ask(self, path: str, params: dict[str, str], query: str) -> dict[str, Any]:
        from opsctl.health.client import ProbeError

        where = self._where
        try:
            reply = self._client.get(path, params=params)
        except ProbeError as exc:
            raise Unavailable(f"{where} cannot be reached: {exc}") from None
        try:
            body = reply.json()
        except ValueError:
            raise Unavailable(f"{where} did not answer JSON (HTTP {reply.status})") from None
        if not isinstance(body, dict):
            raise Unavailable(f"{where} answered something that is not a query result (HTTP {reply.status})")
        if body.get("status") != "success":
            error = str(body.get("error") or reply.describe_status())
            if body.get("errorType") == "bad_data":  # the query itself: a metric or selector in opsctl.yaml
                raise BadInput(f"{where} rejected the query {query}: {error}")
            raise Unavailable(f"{where} could not answer: {error}")
        data = body.get("data")
        return data if isinstance(data, dict) else {}


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _shown(value: Any, limit: int = 80) -> str:
    """A piece of an answer in a message: its repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unix(moment: datetime) -> str:
    return f"{moment.timestamp():.3f}"


def _duration(seconds: float) -> str:
    """A PromQL duration in whole seconds (``2592000s``): exact, and no unit arithmetic to get wrong."""
    return f"{max(1, round(seconds))}s"
