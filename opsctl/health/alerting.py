"""``monitoring.alerting``: metrics are fresh and alerts would reach someone ("Monitoring and alerting functional").

Per configured source: Prometheus' alerting rules for the service and its
Alertmanagers (:mod:`opsctl.health.rules`), Alertmanager's receivers,
CloudWatch alarms (:mod:`opsctl.health.alarms`); plus the freshness check of
``metrics.fresh``. Every part runs; the summary names each. Without any
alerting source only freshness is checked: that passes in an unprotected
environment (saying so) and warns in a protected one, where unverified
alerting is a gap someone must see.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from opsctl.engine.outcome import Outcome, Status
from opsctl.health import alarms, cloudwatch, freshness, rules
from opsctl.health.client import HealthClient, health_config
from opsctl.health.context import ProbeContext
from opsctl.health.params import AlertingParams, FreshParams
from opsctl.health.sources import alb_metrics, prometheus_client

NOT_CONFIGURED = (
    "alerting not verified: set health.prometheus_url, health.alertmanager_url or "
    "health.cloudwatch.alarm_prefix / alarm_names"
)


def alerting(ctx: ProbeContext, params: AlertingParams) -> Outcome:
    health = health_config(ctx, params.base_url)
    timeout = params.timeout or health.timeout
    prom_url = params.prometheus_url or health.prometheus_url
    am_url = params.alertmanager_url or health.alertmanager_url
    alb = None
    if health.cloudwatch and ("alarm_prefix" in health.cloudwatch or "alarm_names" in health.cloudwatch):
        alb = alb_metrics(ctx, health.cloudwatch, "monitoring.alerting")
    parts: list[tuple[str, Outcome]] = []
    with ExitStack() as stack:
        if params.fresh:
            fresh = FreshParams(
                base_url=params.base_url, timeout=params.timeout, retries=params.retries, max_age=params.max_age
            )
            parts.append(("metrics", freshness.fresh(ctx, fresh)))
        if prom_url:
            prom = stack.enter_context(prometheus_client(ctx, prom_url, timeout, params.retries, "monitoring.alerting"))
            labels = params.alert_labels if params.alert_labels is not None else health.prometheus.alert_labels
            required = params.alert_rules if params.alert_rules is not None else health.prometheus.alert_rules
            parts.append(("rules", rules.check_rules(prom, labels or {"service": ctx.config.service}, required)))
        if am_url:
            manager = stack.enter_context(
                HealthClient(am_url, timeout=timeout, retries=params.retries, cancel=ctx.cancel)
            )
            parts.append(("alertmanager", rules.check_alertmanager(manager)))
        if alb is not None:
            client = cloudwatch.make_client(alb)
            stack.callback(client.close)
            parts.append(("alarms", alarms.check_alarms(client, alb)))
    return _combine(parts, alerting_checked=bool(prom_url or am_url or alb), protected=ctx.env.protected)


def _combine(parts: list[tuple[str, Outcome]], *, alerting_checked: bool, protected: bool) -> Outcome:
    detail: dict[str, Any] = {name: {"status": o.status.value, "summary": o.summary} for name, o in parts}
    failed = [o for _, o in parts if o.status is Status.FAILED]
    shown = [o.summary for _, o in parts]
    if not alerting_checked:
        shown.append(NOT_CONFIGURED)
    summary = "; ".join(shown)
    detail["value"] = f"{len(parts) - len(failed)} of {len(parts)} checks ok"
    detail["target"] = "fresh metrics, alerting rules, receivers, alarms"
    if failed:
        # The failures first: they are what the person must act on.
        summary = "; ".join([o.summary for o in failed] + [o.summary for _, o in parts if o not in failed])
        return Outcome.failed(summary, **detail)
    if not alerting_checked and protected:
        return Outcome.warned(summary, **detail)
    return Outcome.passed(summary, **detail)
