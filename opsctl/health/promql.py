"""Real traffic from Prometheus: PromQL for one window's requests, 5xx and p95 (the bot's metric names by default).

p95 comes from the request-duration histogram
(``histogram_quantile(0.95, sum by (le) (rate(<histogram>_bucket{...}[<window>])))``),
requests and errors from the request counter (``increase`` over the window,
errors by status class ``5..``). Every query is evaluated at the window's end
with the window's length as its range, so it covers that window only. When
the series carry the version label, only the new release's series count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opsctl.config import PrometheusSeries
from opsctl.health import prometheus
from opsctl.health.client import HealthClient, ProbeError
from opsctl.health.traffic import Traffic
from opsctl.health.window import Window


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


@dataclass(frozen=True)
class TrafficQueries:
    """The PromQL of one service's real traffic; ``version`` set: only that release's series."""

    series: PrometheusSeries
    version: str | None = None

    def matchers(self, *extra: str) -> str:
        parts = [self.series.selector.strip().strip(","), *extra]
        if self.version is not None and self.series.version_label:
            parts.append(f'{self.series.version_label}="{_quote(self.version)}"')
        return ", ".join(p for p in parts if p)

    def p95(self, seconds: float) -> str:
        window = prometheus.promql_duration(seconds)
        bucket = f"{self.series.histogram}_bucket{{{self.matchers()}}}"
        return f"histogram_quantile(0.95, sum by (le) (rate({bucket}[{window}])))"

    def requests(self, seconds: float) -> str:
        window = prometheus.promql_duration(seconds)
        return f"sum(increase({self.series.counter}{{{self.matchers()}}}[{window}]))"

    def errors(self, seconds: float) -> str:
        window = prometheus.promql_duration(seconds)
        status = f'{self.series.status_label}=~"5.."'
        return f"sum(increase({self.series.counter}{{{self.matchers(status)}}}[{window}])) or vector(0)"

    def versioned(self) -> str:
        """Some series of the counter carry the version label (then queries may filter by it)."""
        label = self.series.version_label or "version"
        present = f'{label}!=""'
        return f"count({self.series.counter}{{{self.matchers(present)}}})"


@dataclass
class PromTraffic:
    """Reads windows of real traffic from one Prometheus; asks once whether the version label exists."""

    client: HealthClient
    series: PrometheusSeries
    version: str | None  # the release just rolled out; None: every series counts
    _versioned: bool | None = field(default=None, init=False)
    settle: float = 0.0  # queries at a window's end see every scrape up to it

    def _queries(self, at: float) -> TrafficQueries:
        if self.version is None or not self.series.version_label:
            return TrafficQueries(self.series)
        if self._versioned is None:
            probe = TrafficQueries(self.series).versioned()
            self._versioned = bool(prometheus.query(self.client, probe, at))
        return TrafficQueries(self.series, self.version if self._versioned else None)

    def read(self, window: Window, *, latency: bool) -> Traffic:
        """Requests, 5xx and (with ``latency``) p95 of ``window``."""
        at = window.end.timestamp()
        label = f"Prometheus, {window.describe()}"
        try:
            queries = self._queries(at)
            if queries.version is not None:
                label += f", version {queries.version}"
            requests = _number(prometheus.query(self.client, queries.requests(window.seconds), at))
            errors = _number(prometheus.query(self.client, queries.errors(window.seconds), at))
            p95 = _number(prometheus.query(self.client, queries.p95(window.seconds), at)) if latency else None
        except ProbeError as exc:
            return Traffic.failed(label, str(exc))
        detail: dict[str, object] = {
            "query": queries.p95(window.seconds) if latency else queries.errors(window.seconds)
        }
        return Traffic(label, requests or 0.0, errors or 0.0, None if p95 is None else p95 * 1000, detail=detail)


def _number(samples: list[prometheus.Sample]) -> float | None:
    """The value of an aggregated (one-series) answer; None for an empty one."""
    return sum(s.value for s in samples) if samples else None
