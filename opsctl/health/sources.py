"""Where an error rate comes from: Prometheus, CloudWatch (ALB) or sampled requests.

:func:`error_rate_reader` picks the source once (``auto``: Prometheus when
``prometheus_url`` is set, else CloudWatch when ``health.cloudwatch`` is set,
else sampling the bot) and returns a function that takes one reading.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from opsctl.errors import BadInput
from opsctl.health import cloudwatch, prometheus
from opsctl.health.client import HealthClient, ProbeError, client_for, health_config
from opsctl.health.context import ProbeContext
from opsctl.health.params import BaselineParams, ErrorRateParams
from opsctl.health.stats import sample
from opsctl.values.durations import format_duration


@dataclass(frozen=True)
class Reading:
    """One error-rate reading; ``value`` None means no data and ``why`` says why."""

    value: float | None
    label: str  # where it came from, for the summary: "Prometheus, last 5m00s"
    why: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def prometheus_client(ctx: ProbeContext, url: str | None, timeout: float, retries: int, what: str) -> HealthClient:
    """A client for the Prometheus HTTP API (never sent the bot's headers)."""
    if not url:
        raise BadInput(
            f"{what} reads Prometheus but no URL is set: set environments.{ctx.env_name}.health.prometheus_url "
            "in opsctl.yaml or pass with: prometheus_url"
        )
    return HealthClient(url, timeout=timeout, retries=retries, cancel=ctx.cancel)


def alb_metrics(ctx: ProbeContext, raw: dict[str, str] | None, what: str) -> cloudwatch.AlbMetrics:
    where = f"environments.{ctx.env_name}.health.cloudwatch"
    if raw is None:
        raise BadInput(f"{what} reads CloudWatch but {where} is not set in opsctl.yaml")
    return cloudwatch.AlbMetrics.from_config(raw, where)


def error_rate_reader(
    ctx: ProbeContext, params: ErrorRateParams | BaselineParams, stack: ExitStack, what: str
) -> Callable[[], Reading]:
    """The reading function for ``params.source``; clients are closed by ``stack``."""
    health = health_config(ctx, params.base_url)
    window = params.window or ctx.config.slo.error_window
    timeout = params.timeout or health.timeout
    prom_url = params.prometheus_url or health.prometheus_url
    source = params.source
    if source == "auto":
        source = "prometheus" if prom_url else "cloudwatch" if health.cloudwatch else "sampled"
    if source == "prometheus":
        prom = stack.enter_context(prometheus_client(ctx, prom_url, timeout, params.retries, what))
        query = prometheus.with_window(params.query or prometheus.DEFAULT_ERROR_QUERY, window)
        label = f"Prometheus, last {format_duration(window)}"
        return lambda: _from_prometheus(prom, query, label)
    if source == "cloudwatch":
        alb = alb_metrics(ctx, health.cloudwatch, what)
        client = cloudwatch.make_client(alb)
        stack.callback(client.close)
        label = f"CloudWatch {alb.load_balancer}, last {format_duration(window)}"

        def read_cloudwatch() -> Reading:
            try:
                value, counts, why = cloudwatch.error_rate(client, alb, window, ctx.clock())
            except ProbeError as exc:
                return Reading(None, label, str(exc))
            return Reading(value, label, why, counts)

        return read_cloudwatch
    bot = stack.enter_context(client_for(ctx, health, timeout=timeout, max_connections=params.concurrency))
    path = params.path or health.paths.health
    return lambda: sampled_rate(bot, path, params.samples, params.concurrency)


def _from_prometheus(client: HealthClient, query: str, label: str) -> Reading:
    try:
        result = prometheus.instant_query(client, query)
    except ProbeError as exc:
        return Reading(None, label, str(exc), {"query": query})
    return Reading(result.value, label, result.why, {"query": query})


def sampled_rate(client: HealthClient, path: str, count: int, concurrency: int) -> Reading:
    """The share of ``count`` GETs of ``path`` that got a 5xx or no answer."""
    samples = sample(client, path, count=count, concurrency=concurrency)
    label = f"sampled {samples.total} requests to {path}"
    if samples.first_error:
        label += f"; first error: {samples.first_error}"
    if not samples.total:
        return Reading(None, label, "no request was sent (interrupted)")
    return Reading(samples.error_rate, label, detail={"errors": samples.errors, "requests": samples.total})
