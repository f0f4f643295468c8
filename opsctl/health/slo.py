"""SLO measurements: error rate (against the SLO and the pre-deploy baseline), DB pool; p95 latency lives
in :mod:`opsctl.health.latency` (re-exported here).

Each action core builds a ``measure()`` function and hands it to
:mod:`~opsctl.health.analysis`: after a rollout, real-traffic sources read one
window each (:mod:`opsctl.health.readings`); otherwise ``count`` readings
``interval`` apart of the trailing ``slo.error_window`` or of the synthetic sampler.
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
from opsctl.health.latency import latency, measure_latency
from opsctl.health.params import BaselineParams, DbPoolParams, ErrorRateParams
from opsctl.health.probes import parse_json
from opsctl.health.promql import PromTraffic
from opsctl.health.readings import (
    SYNTHETIC,
    analyse_traffic,
    guard_for,
    labelled,
    open_reader,
    pick_source,
    synthetic_schedule,
)
from opsctl.health.sources import Reading, error_rate_reader, prometheus_client, resolve_source, sampled_reading
from opsctl.health.stats import sample
from opsctl.health.traffic import Traffic, error_rate_of, pct
from opsctl.health.window import Window, rollout_finished_at
from opsctl.values.fieldpath import field_at

__all__ = ["baseline", "db_pool", "error_rate", "error_rate_against", "judge_error_rate", "latency", "measure_latency"]


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
    health = health_config(ctx, params.base_url)
    kind = pick_source(params, health)
    with ExitStack() as stack:
        guard = guard_for(ctx, params, health, stack)

        def guarded(reading: Measurement) -> Measurement:
            return reading if guard is None else guard.apply(reading)

        if kind == SYNTHETIC or rollout_finished_at(ctx) is None:
            # No "after the change" to look at: the trailing window, or requests opsctl sends now.
            read = error_rate_reader(ctx, params, stack, "metrics.error_rate")
            schedule = synthetic_schedule(ctx, params) if kind == SYNTHETIC else params
            outcome = run_analysis(
                lambda: guarded(judge_error_rate(read(), max_rate, before, params.tolerance)), schedule, ctx.cancel
            )
            return labelled(outcome, kind)
        reader = open_reader(ctx, params, health, kind, stack=stack, what="metrics.error_rate")
        custom = params.query if isinstance(reader, PromTraffic) else None

        def judge(window: Window, least: int) -> Measurement:
            if custom is not None and isinstance(reader, PromTraffic):
                reading = _custom_ratio(reader, custom, window)
                return judge_error_rate(reading, max_rate, before, params.tolerance)
            return judge_traffic_errors(reader.read(window, latency=False), least, max_rate, before, params.tolerance)

        trailing = params.window or ctx.config.slo.error_window
        return analyse_traffic(
            ctx, params, judge, guard, trailing=trailing, what="errors", settle=reader.settle, source=kind
        )


def _custom_ratio(reader: PromTraffic, query: str, window: Window) -> Reading:
    """``with: query`` (a ratio; ``{window}`` is the window's length) evaluated at the window's end."""
    text = prometheus.with_window(query, window.seconds)
    label = f"Prometheus, {window.describe()}"
    try:
        result = prometheus.instant_query(reader.client, text, window.end.timestamp())
    except ProbeError as exc:
        return Reading(None, label, str(exc), {"query": text})
    return Reading(result.value, label, result.why, {"query": text})


def judge_traffic_errors(
    traffic: Traffic, min_requests: int, max_rate: float, before: float | None, tolerance: float
) -> Measurement:
    """A window of real traffic judged like any error-rate reading, once it has enough requests."""
    target = f"<= {pct(max_rate)}"
    rate, screened = error_rate_of(traffic, min_requests, target)
    if screened is not None:
        return screened
    label = f"{traffic.label}: {traffic.errors or 0:.0f} of {traffic.requests or 0:.0f} requests failed"
    return judge_error_rate(Reading(rate, label, detail=traffic.counts()), max_rate, before, tolerance)


def baseline(ctx: RunContext, params: BaselineParams) -> Outcome:
    """Record the current error rate and latency in ``ctx.state.baseline`` (changes nothing outside)."""
    health = health_config(ctx, params.base_url)
    path = params.path or health.paths.health
    with ExitStack() as stack:
        found = None
        if params.latency_samples is None and resolve_source(ctx, params) == SYNTHETIC:
            # One set of concurrent requests gives both figures, instead of two sets in turn.
            timeout = params.timeout or health.timeout
            client = stack.enter_context(client_for(ctx, health, timeout=timeout, max_connections=params.concurrency))
            found = sample(client, path, count=params.samples, concurrency=params.concurrency)
            reading = sampled_reading(found)
        else:
            reading = error_rate_reader(ctx, params, stack, "metrics.baseline")()
            if params.latency_samples:
                client = stack.enter_context(
                    client_for(ctx, health, timeout=params.timeout, max_connections=params.concurrency)
                )
                found = sample(client, path, count=params.latency_samples, concurrency=params.concurrency, warmup=1)
        latency_ms: dict[str, float] = {}
        if found is not None and found.latencies_ms:
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
