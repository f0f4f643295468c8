"""The stand-in bot's request metrics, as a real service exports them (Prometheus text, stdlib only).

- ``http_requests_total{path, status, version}``: a counter per answered request;
- ``http_request_duration_seconds{path, version}``: a histogram of the time
  from reading the request to sending the answer (``_bucket{le}``, ``_sum``, ``_count``).

``version`` is the release that answered, so a query can count only the new
release's traffic after a deploy.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

# Prometheus' client default buckets, which put 0.3 s apart from 0.05 s and 2 s apart from 0.3 s.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass
class _Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1
        self.total += seconds
        self.count += 1


class RequestMetrics:
    """Thread-safe counters and histograms of answered requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, int, str]] = Counter()
        self._durations: dict[tuple[str, str], _Histogram] = {}

    def observe(self, path: str, status: int, version: str, seconds: float) -> None:
        with self._lock:
            self._requests[(path, status, version)] += 1
            self._durations.setdefault((path, version), _Histogram()).observe(seconds)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._durations.clear()

    def exposition(self) -> list[str]:
        """The metrics as Prometheus text lines."""
        with self._lock:
            requests = sorted(self._requests.items())
            durations = sorted((k, _Histogram(list(h.buckets), h.total, h.count)) for k, h in self._durations.items())
        lines = [
            "# HELP http_requests_total Requests answered, by path, status and version.",
            "# TYPE http_requests_total counter",
        ]
        for (path, status, version), n in requests:
            lines.append(
                f'http_requests_total{{path="{_label(path)}",status="{status}",version="{_label(version)}"}} {n}'
            )
        lines += [
            "# HELP http_request_duration_seconds Time to answer a request.",
            "# TYPE http_request_duration_seconds histogram",
        ]
        name = "http_request_duration_seconds"
        for (path, version), h in durations:
            labels = f'path="{_label(path)}",version="{_label(version)}"'
            for bound, n in zip(BUCKETS, h.buckets, strict=True):
                lines.append(f'{name}_bucket{{{labels},le="{bound:g}"}} {n}')
            lines.append(f'{name}_bucket{{{labels},le="+Inf"}} {h.count}')
            lines.append(f"{name}_sum{{{labels}}} {h.total:.6f}")
            lines.append(f"{name}_count{{{labels}}} {h.count}")
        return lines
