"""``metrics.*``: SLOs after a deploy (latency, error rate, DB pool) and working monitoring.

The SLO actions take ``count``, ``interval``, ``failure_limit`` and
``initial_delay`` with progressive-delivery semantics (see
:mod:`opsctl.health.analysis`); a measurement without data is a failure.
``metrics.baseline`` records the error rate and latency before a deploy so
that ``metrics.error_rate`` can check for an increase. Targets default to the
``slo:`` section of opsctl.yaml.
"""

from __future__ import annotations

from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.health import freshness, slo
from opsctl.health.params import BaselineParams, DbPoolParams, ErrorRateParams, FreshParams, LatencyParams


@action("metrics.latency", LatencyParams, needs_env=True)
def metrics_latency(ctx: RunContext, params: LatencyParams) -> Outcome:
    """Sampled p95 latency (p50/p99 reported) is within slo.p95_ms."""
    return slo.latency(ctx, params)


@action("metrics.error_rate", ErrorRateParams, needs_env=True)
def metrics_error_rate(ctx: RunContext, params: ErrorRateParams) -> Outcome:
    """The 5xx rate over slo.error_window is within slo.error_rate and not up from the baseline."""
    return slo.error_rate(ctx, params)


@action("metrics.baseline", BaselineParams, needs_env=True)
def metrics_baseline(ctx: RunContext, params: BaselineParams) -> Outcome:
    """Record the current error rate and latency as the baseline for metrics.error_rate."""
    return slo.baseline(ctx, params)


@action("metrics.db_pool", DbPoolParams, needs_env=True)
def metrics_db_pool(ctx: RunContext, params: DbPoolParams) -> Outcome:
    """Database pool utilization (pool_in_use / pool_size) is within slo.db_pool_utilization."""
    return slo.db_pool(ctx, params)


@action("metrics.fresh", FreshParams, needs_env=True)
def metrics_fresh(ctx: RunContext, params: FreshParams) -> Outcome:
    """Monitoring and alerting functional: the metrics source answers with fresh data."""
    return freshness.fresh(ctx, params)
