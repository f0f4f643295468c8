"""Where an error rate over a trailing window comes from: Prometheus, CloudWatch (ALB) or synthetic requests.

:func:`error_rate_reader` picks the source once (``auto``: Prometheus when
``prometheus_url`` is set, else CloudWatch when ``health.cloudwatch`` is set,
else requests opsctl sends itself, labelled ``synthetic``) and returns a
function that takes one reading. ``metrics.baseline`` and readings without a
rollout in the run use it; after a rollout, :mod:`opsctl.health.readings`
reads the analysis windows instead.
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
from opsctl.health.stats import Samples, sample
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


def alb_metrics(ctx: ProbeContext, raw: dict[str, str | list[str]] | None, what: str) -> cloudwatch.AlbMetrics:
    where = f"environments.{ctx.env_name}.health.cloudwatch"
    if raw is None:
        raise BadInput(f"{what} reads CloudWatch but {where} is not set in opsctl.yaml")
    return cloudwatch.AlbMetrics.from_config(raw, where)


def resolve_source(ctx: ProbeContext, params: ErrorRateParams | BaselineParams) -> str:
    """``params.source`` with ``auto`` decided: Prometheus, else CloudWatch, else synthetic."""
    if params.source != "auto":
        return "synthetic" if params.source == "sampled" else params.source
    health = health_config(ctx, params.base_url)
    if params.prometheus_url or health.prometheus_url:
        return "prometheus"
    return "cloudwatch" if health.cloudwatch else "synthetic"


def error_rate_reader(
    ctx: ProbeContext, params: ErrorRateParams | BaselineParams, stack: ExitStack, what: str
) -> Callable[[], Reading]:
    """The reading function for ``params.source``; clients are closed by ``stack``."""
    health = health_config(ctx, params.base_url)
    window = params.window or ctx.config.slo.error_window
    timeout = params.timeout or health.timeout
    prom_url = params.prometheus_url or health.prometheus_url
    source = resolve_source(ctx, params)
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
    return sampled_reading(sample(client, path, count=count, concurrency=concurrency))


def sampled_reading(samples: Samples) -> Reading:
    """The error-rate reading of requests already sent (``metrics.baseline`` also takes their latency)."""
    path = samples.path
    label = f"synthetic: {samples.total} requests to {path}"
    if samples.first_error:
        label += f"; first error: {samples.first_error}"
    if not samples.total:
        return Reading(None, label, "no request was sent (interrupted)")
    return Reading(samples.error_rate, label, detail={"errors": samples.errors, "requests": samples.total})
