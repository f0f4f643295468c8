"""``metrics.fresh``: monitoring answers with fresh data ("Monitoring and alerting functional").

Sources: the bot's own ``/metrics`` (it parses as Prometheus text and has
samples), Prometheus (the newest scrape is recent), or CloudWatch (the ALB's
newest ``RequestCount`` datapoint is recent).
"""

from __future__ import annotations

from contextlib import ExitStack

from opsctl.engine.outcome import Outcome
from opsctl.health import cloudwatch, prometheus
from opsctl.health.client import HealthClient, ProbeError, client_for, health_config
from opsctl.health.context import ProbeContext
from opsctl.health.params import FreshParams
from opsctl.health.promtext import ExpositionError, parse_exposition
from opsctl.health.sources import alb_metrics, prometheus_client
from opsctl.values.durations import format_duration


def check_metrics_endpoint(client: HealthClient, path: str, require: list[str]) -> Outcome:
    """The endpoint answers Prometheus text with at least one sample (and every ``require``d metric)."""
    target = "Prometheus text with samples"
    try:
        reply = client.get(path)
    except ProbeError as exc:
        return Outcome.failed(str(exc), value="no answer", target=target)
    if reply.status != 200:
        hint = "; no metrics endpoint? set health.prometheus_url or health.cloudwatch" if reply.status == 404 else ""
        return Outcome.failed(reply.describe_status() + hint, value=f"HTTP {reply.status}", target=target)
    try:
        exposition = parse_exposition(reply.text)
    except ExpositionError as exc:
        return Outcome.failed(f"{reply.url}: {exc}", value="not Prometheus text", target=target)
    detail = {
        "url": reply.url,
        "samples": exposition.sample_count,
        "metrics": len(exposition.samples),
        "value": f"{exposition.sample_count} samples",
        "target": target,
    }
    if not exposition.sample_count:
        return Outcome.failed(f"{reply.url} exposes no samples", **detail)
    missing = [name for name in require if name not in exposition.samples]
    if missing:
        return Outcome.failed(f"{reply.url} does not expose {', '.join(missing)}", **detail)
    return Outcome.passed(
        f"{reply.url} exposes {exposition.sample_count} samples of {len(exposition.samples)} metrics", **detail
    )


def _judge_age(age: float | None, max_age: float, where: str, why: str = "") -> Outcome:
    target = f"newer than {format_duration(max_age)}"
    if age is None:
        return Outcome.failed(f"no data: {why or 'nothing recent'} ({where})", value="no data", target=target)
    detail = {"age_s": round(age, 1), "value": f"{format_duration(max(age, 0))} old", "target": target}
    if age > max_age:
        return Outcome.failed(
            f"newest data is {format_duration(age)} old, older than {format_duration(max_age)} ({where})", **detail
        )
    return Outcome.passed(f"newest data is {format_duration(max(age, 0))} old ({where})", **detail)


def fresh(ctx: ProbeContext, params: FreshParams) -> Outcome:
    health = health_config(ctx, params.base_url)
    prom_url = params.prometheus_url or health.prometheus_url
    source = params.source
    if source == "auto":
        source = "prometheus" if prom_url else "cloudwatch" if health.cloudwatch else "endpoint"
    timeout = params.timeout or health.timeout
    with ExitStack() as stack:
        if source == "endpoint":
            client = stack.enter_context(client_for(ctx, health, timeout=timeout, retries=params.retries))
            return check_metrics_endpoint(client, params.path or health.paths.metrics, params.require)
        if source == "prometheus":
            prom = stack.enter_context(prometheus_client(ctx, prom_url, timeout, params.retries, "metrics.fresh"))
            query = params.query or prometheus.DEFAULT_FRESH_QUERY
            try:
                result = prometheus.instant_query(prom, query)
            except ProbeError as exc:
                return _judge_age(None, params.max_age, "Prometheus", str(exc))
            # Age against Prometheus' own evaluation time, so clock skew between
            # this host and Prometheus does not matter.
            age = None if result.value is None else (result.evaluated_at or 0) - result.value
            return _judge_age(age, params.max_age, "Prometheus", result.why)
        alb = alb_metrics(ctx, health.cloudwatch, "metrics.fresh")
        cw = cloudwatch.make_client(alb)
        stack.callback(cw.close)
        try:
            cw_age = cloudwatch.newest_age(cw, alb, params.max_age, ctx.clock())
        except ProbeError as exc:
            return _judge_age(None, params.max_age, f"CloudWatch {alb.load_balancer}", str(exc))
        return _judge_age(
            cw_age, params.max_age, f"CloudWatch {alb.load_balancer}", f"no {cloudwatch.REQUESTS} datapoint"
        )
