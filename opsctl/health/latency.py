"""``metrics.latency``: p95 within ``slo.p95_ms``, from real traffic when a source is configured.

Sources: Prometheus (the request-duration histogram), CloudWatch (the ALB's
``TargetResponseTime`` p95), or the synthetic sampler (requests opsctl sends
to ``/health``, labelled ``synthetic``). A reading made of failed requests is
a failure, never a latency figure.
"""

from __future__ import annotations

from contextlib import ExitStack

from opsctl.engine.outcome import Outcome
from opsctl.health.analysis import Measurement, run_analysis
from opsctl.health.client import HealthClient, client_for, health_config
from opsctl.health.context import ProbeContext
from opsctl.health.params import LatencyParams
from opsctl.health.readings import (
    SYNTHETIC,
    analyse_traffic,
    guard_for,
    labelled,
    open_reader,
    pick_source,
    synthetic_schedule,
)
from opsctl.health.stats import sample
from opsctl.health.traffic import judge_latency


def measure_latency(
    client: HealthClient, path: str, *, samples: int, concurrency: int, warmup: int, target_ms: float
) -> Measurement:
    """p50/p95/p99 of ``samples`` GETs of ``path``; passes when p95 <= ``target_ms``."""
    found = sample(client, path, count=samples, concurrency=concurrency, warmup=warmup)
    target = f"p95 <= {target_ms:.0f}ms"
    if not found.total:
        return Measurement.no_data("no request was sent (interrupted)", value="no data", target=target)
    if found.errors == found.total:
        # Failed requests have no latency worth judging: a dead bot must not read as "fast".
        summary = f"all {found.total} requests to {path} failed (synthetic): {found.first_error}"
        return Measurement(
            None,
            False,
            summary,
            {"requests": found.total, "errors": found.errors, "value": "all failed", "target": target},
        )
    if not found.latencies_ms:
        return Measurement.no_data(found.first_error or "no answer", value="no data", target=target)
    p50, p95, p99 = found.p(50), found.p(95), found.p(99)
    passed = p95 <= target_ms
    failed = f", {found.errors} failed" if found.errors else ""
    summary = (
        f"p95 {p95:.0f}ms {'<=' if passed else '>'} {target_ms:.0f}ms "
        f"(synthetic: p50 {p50:.0f}ms, p99 {p99:.0f}ms; {found.total} requests to {path}{failed})"
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
    """``metrics.latency``: p95 from the configured source, over the analysis windows after the rollout."""
    health = health_config(ctx, params.base_url)
    target_ms = params.p95_ms or ctx.config.slo.p95_ms
    kind = pick_source(params, health)
    with ExitStack() as stack:
        guard = guard_for(ctx, params, health, stack)
        if kind == SYNTHETIC:
            path = params.path or health.paths.health
            client = stack.enter_context(
                client_for(ctx, health, timeout=params.timeout, max_connections=params.concurrency)
            )

            def measure() -> Measurement:
                reading = measure_latency(
                    client,
                    path,
                    samples=params.samples,
                    concurrency=params.concurrency,
                    warmup=params.warmup,
                    target_ms=target_ms,
                )
                return reading if guard is None else guard.apply(reading)

            return labelled(run_analysis(measure, synthetic_schedule(ctx, params), ctx.cancel), SYNTHETIC)
        reader = open_reader(ctx, params, health, kind, stack=stack, what="metrics.latency")
        return analyse_traffic(
            ctx,
            params,
            lambda window, least: judge_latency(reader.read(window, latency=True), target_ms, least),
            guard,
            trailing=ctx.config.slo.error_window,
            what="latency",
            settle=reader.settle,
            source=kind,
        )
