"""Request sampling and percentiles for latency and sampled error-rate measurements."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from opsctl.health.client import HealthClient, ProbeError


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); ``values`` must not be empty."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Samples:
    """What N requests to one path saw.

    ``latencies_ms`` holds every answered request (whatever its status) plus
    timed-out ones at the timeout: leaving timeouts out would make a hung bot
    look fast. Refused connections have no latency.
    """

    path: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0  # 5xx answers and requests that got no answer
    total: int = 0
    first_error: str = ""

    @property
    def error_rate(self) -> float:
        return self.errors / self.total if self.total else math.nan

    def p(self, pct: float) -> float:
        return percentile(self.latencies_ms, pct)


def _one(client: HealthClient, path: str) -> tuple[float | None, str] | None:
    """(latency ms or None, error text or "") for one GET without retries; None once cancelled."""
    if client.cancel.is_set():
        return None
    try:
        reply = client.get(path, retries=0)
    except ProbeError as exc:
        return (client.timeout * 1000 if exc.timed_out else None), str(exc)
    if reply.status >= 500:
        return reply.elapsed_ms, reply.describe_status()
    return reply.elapsed_ms, ""


def sample(client: HealthClient, path: str, *, count: int, concurrency: int, warmup: int = 0) -> Samples:
    """GET ``path`` ``warmup`` times (not counted: connection setup, cold caches), then ``count`` times.

    Requests run on at most ``concurrency`` threads; no request starts once
    the run's cancel event is set (those not sent are not counted).
    """
    workers = max(1, min(concurrency, count))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="opsctl-sample") as pool:
        list(pool.map(lambda _: _one(client, path), range(warmup)))
        futures = [pool.submit(_one, client, path) for _ in range(count)]
        results = [r for r in (f.result() for f in futures) if r is not None]
    latencies = [ms for ms, _ in results if ms is not None]
    failures = [err for _, err in results if err]
    return Samples(path, latencies, len(failures), len(results), failures[0] if failures else "")
