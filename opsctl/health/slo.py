"""SLO measurements: p95 latency, error rate (against the SLO and the pre-deploy baseline), DB pool.

Each action core builds a ``measure()`` function and hands it to
:func:`~opsctl.health.analysis.run_analysis`, which applies ``count``,
``interval``, ``failure_limit`` and ``initial_delay``.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.engine.state import BaselineRecord
from opsctl.health import prometheus
from opsctl.health.analysis import Measurement, run_analysis
from opsctl.health.client import HealthClient, ProbeError, client_for, health_config
from opsctl.health.context import ProbeContext
from opsctl.health.params import BaselineParams, DbPoolParams, ErrorRateParams, LatencyParams
from opsctl.health.probes import parse_json
from opsctl.health.sources import Reading, error_rate_reader, prometheus_client
from opsctl.health.stats import sample
from opsctl.values.fieldpath import field_at


def pct(rate: float) -> str:
    return f"{rate * 100:.2f}%"


def measure_latency(
    client: HealthClient, path: str, *, samples: int, concurrency: int, warmup: int, target_ms: float
) -> Measurement:
    """p50/p95/p99 of ``samples`` GETs of ``path``; passes when p95 <= ``target_ms``."""
    found = sample(client, path, count=samples, concurrency=concurrency, warmup=warmup)
    target = f"p95 <= {target_ms:.0f}ms"
    if not found.latencies_ms:
        why = found.first_error or "no request was sent (interrupted)"
        return Measurement.no_data(why, value="no data", target=target)
    p50, p95, p99 = found.p(50), found.p(95), found.p(99)
    passed = p95 <= target_ms
    failed = f", {found.errors} failed" if found.errors else ""
    summary = (
        f"p95 {p95:.0f}ms {'<=' if passed else '>'} {target_ms:.0f}ms "
        f"(p50 {p50:.0f}ms, p99 {p99:.0f}ms; {found.total} requests to {path}{failed})"
    )
    detail = {
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "p99_ms": round(p99, 1),
        "requests": found.total,
        "errors": found.errors,
        "value": f"p95 {p95:.0f}ms",
        "target": target,
    }
    return Measurement(p95, passed, summary, detail)


def latency(ctx: ProbeContext, params: LatencyParams) -> Outcome:
    health = health_config(ctx, params.base_url)
    path = params.path or health.paths.health
    target_ms = params.p95_ms or ctx.config.slo.p95_ms
    with client_for(ctx, health, timeout=params.timeout, max_connections=params.concurrency) as client:
        return run_analysis(
            lambda: measure_latency(
                client,
                path,
                samples=params.samples,
                concurrency=params.concurrency,
                warmup=params.warmup,
                target_ms=target_ms,
            ),
            params,
            ctx.cancel,
        )


def baseline_rate(ctx: RunContext) -> float | None:
    """The error rate ``metrics.baseline`` recorded in this run, if any."""
    value = (ctx.state.baseline or {}).get("error_rate")
    return float(value) if isinstance(value, int | float) else None


def judge_error_rate(reading: Reading, max_rate: float, before: float | None, tolerance: float) -> Measurement:
    """Pass when the rate is within the SLO and, if a baseline exists, not up by more than ``tolerance``."""
    target = f"<= {pct(max_rate)}" + (f", <= {pct(before + tolerance)} (baseline)" if before is not None else "")
    if reading.value is None:
        return Measurement.no_data(f"{reading.why} ({reading.label})", value="no data", target=target, **reading.detail)
    rate = reading.value
    over_slo = rate > max_rate
    over_baseline = before is not None and rate > before + tolerance
    detail = {"error_rate": rate, "baseline": before, "value": pct(rate), "target": target, **reading.detail}
    if over_slo and over_baseline:
        summary = f"error rate {pct(rate)} > {pct(max_rate)} and up from {pct(before or 0)} before the deploy"
    elif over_slo:
        summary = f"error rate {pct(rate)} > {pct(max_rate)}"
    elif over_baseline:
        summary = (
            f"error rate {pct(rate)} is up from {pct(before or 0)} before the deploy, "
            f"more than the tolerance of {tolerance * 100:.2f} points"
        )
    else:
        summary = f"error rate {pct(rate)} <= {pct(max_rate)}"
        if before is not None:
            summary += f", {pct(before)} before the deploy"
    return Measurement(rate, not (over_slo or over_baseline), f"{summary} ({reading.label})", detail)


def error_rate(ctx: RunContext, params: ErrorRateParams) -> Outcome:
    """``metrics.error_rate``: within the SLO and, with ``baseline``, not up from this run's baseline."""
    return error_rate_against(ctx, params, baseline_rate(ctx) if params.baseline else None)


def error_rate_against(ctx: ProbeContext, params: ErrorRateParams, before: float | None) -> Outcome:
    """The error rate within the SLO and, when ``before`` is given, not up from it by more than the tolerance."""
    max_rate = params.max_rate if params.max_rate is not None else ctx.config.slo.error_rate
    with ExitStack() as stack:
        read = error_rate_reader(ctx, params, stack, "metrics.error_rate")
        return run_analysis(lambda: judge_error_rate(read(), max_rate, before, params.tolerance), params, ctx.cancel)


def baseline(ctx: RunContext, params: BaselineParams) -> Outcome:
    """Record the current error rate and latency in ``ctx.state.baseline`` (changes nothing outside)."""
    health = health_config(ctx, params.base_url)
    with ExitStack() as stack:
        reading = error_rate_reader(ctx, params, stack, "metrics.baseline")()
        latency_ms: dict[str, float] = {}
        if params.latency_samples:
            client = stack.enter_context(
                client_for(ctx, health, timeout=params.timeout, max_connections=params.concurrency)
            )
            found = sample(
                client,
                params.path or health.paths.health,
                count=params.latency_samples,
                concurrency=params.concurrency,
                warmup=1,
            )
            if found.latencies_ms:
                latency_ms = {"p50_ms": round(found.p(50), 1), "p95_ms": round(found.p(95), 1)}
    record: BaselineRecord = {
        "error_rate": reading.value,
        "error_source": reading.label,
        "taken_at": ctx.clock().isoformat(),
    }
    if latency_ms:
        record["p50_ms"], record["p95_ms"] = latency_ms["p50_ms"], latency_ms["p95_ms"]
    ctx.state.baseline = record
    shown_latency = f", p95 {latency_ms['p95_ms']:.0f}ms" if latency_ms else ""
    value = "no data" if reading.value is None else pct(reading.value)
    detail = {"baseline": record, "value": value + shown_latency, "target": "recorded"}
    if reading.value is None:
        return Outcome.warned(
            f"baseline recorded without an error rate (no data: {reading.why}){shown_latency}", **detail
        )
    return Outcome.passed(f"baseline: error rate {pct(reading.value)} ({reading.label}){shown_latency}", **detail)


def _judge_pool(used: float, limit: float, text: str, detail: dict[str, Any]) -> Measurement:
    passed = used <= limit
    target = f"<= {limit:.0%}"
    summary = f"{text} {'<=' if passed else '>'} {limit:.0%}"
    return Measurement(used, passed, summary, {**detail, "utilization": used, "value": f"{used:.0%}", "target": target})


def measure_pool(client: HealthClient, path: str, dependency: str, limit: float) -> Measurement:
    """pool_in_use / pool_size of the ``dependency`` entry of ``/health/dependencies``."""
    target = {"value": "no data", "target": f"<= {limit:.0%}"}
    try:
        reply = client.get(path)
    except ProbeError as exc:
        return Measurement.no_data(str(exc), **target)
    if reply.status != 200:
        return Measurement.no_data(reply.describe_status(), **target)
    body, problem = parse_json(reply)
    if problem is not None:
        return Measurement.no_data(problem, **target)
    entry = field_at(body, f"dependencies.{dependency}")
    used = entry.get("pool_in_use") if isinstance(entry, dict) else None
    size = entry.get("pool_size") if isinstance(entry, dict) else None
    if not isinstance(used, int | float) or not isinstance(size, int | float) or size <= 0:
        return Measurement.no_data(f"{reply.url}: the {dependency} entry has no pool_in_use and pool_size", **target)
    return _judge_pool(
        used / size,
        limit,
        f"DB pool {used:g}/{size:g} in use ({used / size:.0%})",
        {"pool_in_use": used, "pool_size": size},
    )


def measure_pool_prometheus(client: HealthClient, query: str, limit: float) -> Measurement:
    target = {"value": "no data", "target": f"<= {limit:.0%}", "query": query}
    try:
        result = prometheus.instant_query(client, query)
    except ProbeError as exc:
        return Measurement.no_data(str(exc), **target)
    if result.value is None:
        return Measurement.no_data(result.why, **target)
    return _judge_pool(result.value, limit, f"DB pool utilization {result.value:.0%} (Prometheus)", {"query": query})


def db_pool(ctx: ProbeContext, params: DbPoolParams) -> Outcome:
    health = health_config(ctx, params.base_url)
    limit = params.max_utilization or ctx.config.slo.db_pool_utilization
    timeout = params.timeout or health.timeout
    with ExitStack() as stack:
        if (params.source or ("prometheus" if params.query else "dependencies")) == "prometheus":
            prom = stack.enter_context(
                prometheus_client(
                    ctx, params.prometheus_url or health.prometheus_url, timeout, params.retries, "metrics.db_pool"
                )
            )
            query = params.query or prometheus.DEFAULT_POOL_QUERY
            return run_analysis(lambda: measure_pool_prometheus(prom, query, limit), params, ctx.cancel)
        client = stack.enter_context(client_for(ctx, health, timeout=timeout, retries=params.retries))
        path = params.path or health.paths.dependencies
        return run_analysis(lambda: measure_pool(client, path, params.dependency, limit), params, ctx.cancel)
