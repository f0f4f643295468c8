"""How an SLO action reads real traffic: which source, which windows, the guard at every reading.

:func:`pick_source` resolves ``source: auto`` (Prometheus when a URL is set,
else CloudWatch when ``health.cloudwatch`` is set, else the synthetic
sampler). :func:`analyse_traffic` runs the readings: one per analysis window
after this run's rollout, or, without a rollout, readings of the trailing
window (``opsctl health ENV``, a checklist on its own). Each reading is shown
as it is taken (a ``message`` event of the run) and kept in the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Literal, Protocol

from opsctl.config import HealthConfig
from opsctl.engine.outcome import Outcome
from opsctl.health import cloudwatch
from opsctl.health.alb import AlbTraffic
from opsctl.health.analysis import AnalysisParams, Measurement, run_analysis, run_windows
from opsctl.health.context import ProbeContext
from opsctl.health.guard import Guard, release_version
from opsctl.health.params import TrafficParams
from opsctl.health.promql import PromTraffic
from opsctl.health.sources import alb_metrics, prometheus_client
from opsctl.health.traffic import Traffic
from opsctl.health.window import Window, WindowSpec, plan_windows, rollout_finished_at, trailing_window, window_spec

Kind = Literal["prometheus", "cloudwatch", "synthetic"]
SYNTHETIC = "synthetic"


class TrafficReader(Protocol):
    @property
    def settle(self) -> float:
        """Seconds after a window's end before its data is complete."""
        ...

    def read(self, window: Window, *, latency: bool) -> Traffic: ...


def pick_source(params: TrafficParams, health: HealthConfig) -> Kind:
    """The source ``params.source`` names; ``auto``: the first real-traffic source configured."""
    source = params.source
    if source == "auto":
        if params.prometheus_url or health.prometheus_url:
            return "prometheus"
        return "cloudwatch" if health.cloudwatch else "synthetic"
    if source in ("prometheus", "cloudwatch"):
        return "prometheus" if source == "prometheus" else "cloudwatch"
    return "synthetic"  # or "sampled", its old name


def open_reader(
    ctx: ProbeContext, params: TrafficParams, health: HealthConfig, kind: Kind, *, stack: ExitStack, what: str
) -> TrafficReader:
    """A reader of real traffic for ``kind`` (prometheus or cloudwatch); clients are closed by ``stack``."""
    timeout = params.timeout or health.timeout
    if kind == "prometheus":
        url = params.prometheus_url or health.prometheus_url
        client = stack.enter_context(prometheus_client(ctx, url, timeout, params.retries, what))
        return PromTraffic(client, health.prometheus, release_version(ctx))
    alb = alb_metrics(ctx, health.cloudwatch, what)
    cw = cloudwatch.make_client(alb)
    stack.callback(cw.close)
    return AlbTraffic(cw, alb)


def guard_for(ctx: ProbeContext, params: TrafficParams, health: HealthConfig, stack: ExitStack) -> Guard | None:
    """The per-reading probes of the analysis after this run's rollout; none without a rollout to watch
    (an ad-hoc look has its own health and version rows) or with ``guard: false``."""
    if not params.guard or rollout_finished_at(ctx) is None:
        return None
    return Guard.open(ctx, health, stack, params.timeout, release_version(ctx))


def synthetic_schedule(ctx: ProbeContext, params: AnalysisParams) -> AnalysisParams:
    """``with:`` keys, else the keys ``health.analysis`` sets explicitly, else one reading."""
    health = ctx.env.health
    given = health.analysis.given() if health is not None else {}
    keys = ("count", "interval", "failure_limit", "initial_delay")
    update = {k: given[k] for k in keys if k in given and k not in params.model_fields_set}
    return params.model_copy(update=update) if update else params


def _reporter(ctx: ProbeContext, what: str, spec: WindowSpec) -> Callable[[Window, Measurement], None]:
    emit = getattr(ctx, "emit", None)

    def report(window: Window, reading: Measurement) -> None:
        if callable(emit):
            shown = f"{what} reading {window.index}/{spec.count} ({reading.verdict}): {reading.summary}"
            emit("message", message=shown)

    return report


def analyse_traffic(
    ctx: ProbeContext,
    params: TrafficParams,
    judge: Callable[[Window, int], Measurement],
    guard: Guard | None,
    *,
    settle: float = 0.0,
    trailing: float,
    what: str,
    source: str,
) -> Outcome:
    """Judge each window (``judge(window, min_requests)``) after the rollout, or the trailing window without one."""
    spec = window_spec(ctx, params)

    def read(window: Window) -> Measurement:
        reading = judge(window, spec.min_requests)
        return reading if guard is None else guard.apply(reading)

    rolled_out = rollout_finished_at(ctx)
    if rolled_out is None:
        schedule = params.model_copy(
            update={"inconclusive_limit": spec.inconclusive_limit, "inconclusive": spec.inconclusive}
        )
        outcome = run_analysis(lambda: read(trailing_window(ctx.clock(), trailing)), schedule, ctx.cancel)
    else:
        windows = plan_windows(spec, rolled_out)
        report = _reporter(ctx, what, spec)
        outcome = run_windows(read, windows, spec, cancel=ctx.cancel, clock=ctx.clock, report=report, settle=settle)
        outcome.detail["analysis"] = {"rolled_out": rolled_out.isoformat(), "spec": spec.describe()}
    outcome.detail["source"] = source
    return outcome


def labelled(outcome: Outcome, source: str) -> Outcome:
    """``outcome`` with its source in the detail (the audit log and ``--json`` show it)."""
    outcome.detail["source"] = source
    return outcome
