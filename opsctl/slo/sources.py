"""Which source counts an environment's requests: Prometheus when ``health.prometheus_url`` is set, else CloudWatch.

The same order as the error-rate probe (``source: auto``); there is no
sampled fallback here: twenty requests to ``/health`` say nothing about a
30-day budget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsctl.health.context import ProbeContext
    from opsctl.slo.counts import CounterSource


def has_source(ctx: ProbeContext) -> bool:
    """Whether the environment has a source of request counts configured."""
    health = ctx.env.health
    return health is not None and bool(health.prometheus_url or health.cloudwatch)


def no_source_message(env_name: str | None) -> str:
    return (
        f"{env_name} has no source of request counts for the error budget: set "
        f"environments.{env_name}.health.prometheus_url or health.cloudwatch in opsctl.yaml"
    )


def open_source(ctx: ProbeContext) -> CounterSource | None:
    """The environment's counter source (close it when done), or None when none is configured."""
    health = ctx.env.health
    if health is None:
        return None
    if health.prometheus_url:
        from opsctl.health.client import HealthClient
        from opsctl.health.promql import TrafficQueries
        from opsctl.slo.prometheus import PrometheusCounts

        # No bot headers: they are the bot's, and may carry tokens Prometheus must not see.
        client = HealthClient(health.prometheus_url, timeout=health.timeout, retries=2, cancel=ctx.cancel)
        return PrometheusCounts(client, TrafficQueries(health.prometheus))
    if health.cloudwatch:
        from opsctl.health.cloudwatch import AlbMetrics, make_client
        from opsctl.slo.alb import AlbCounts

        alb = AlbMetrics.from_config(health.cloudwatch, f"environments.{ctx.env_name}.health.cloudwatch")
        return AlbCounts(make_client(alb), alb, ctx.clock())
    return None
