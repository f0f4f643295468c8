"""Repeated measurements with progressive-delivery semantics (Argo Rollouts / Flagger analysis).

``count`` measurements, ``interval`` apart, after ``initial_delay``; the
analysis fails as soon as more than ``failure_limit`` measurements failed.
A measurement without data is a failure, never a pass: a silent metrics
pipeline must not wave a bad release through. Every wait ends early when
the run's cancel event is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from opsctl.config import Delay
from opsctl.engine.outcome import Outcome
from opsctl.values.durations import format_duration


class AnalysisParams(BaseModel):
    """The ``with:`` keys shared by the SLO actions (``metrics.*``)."""

    model_config = ConfigDict(extra="forbid")
    count: int = Field(1, ge=1, le=1000, description="measurements to take")
    interval: Delay = Field(30.0, description="pause between measurements")
    failure_limit: int = Field(0, ge=0, description="failed measurements tolerated")
    initial_delay: Delay = Field(0.0, description="wait before the first measurement")


@dataclass(frozen=True)
class Measurement:
    """One look at a metric. ``value`` None means no data (which fails)."""

    value: float | None
    passed: bool
    summary: str  # one line, e.g. "p95 412ms > 300ms (p50 405ms, p99 415ms; 10 requests to /health)"
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def no_data(cls, why: str, **detail: Any) -> Measurement:
        return cls(None, False, f"no data: {why}", detail)


def run_analysis(measure: Callable[[], Measurement], spec: AnalysisParams, cancel: threading.Event) -> Outcome:
    """Take the measurements of ``spec`` and turn them into one Outcome."""
    if spec.initial_delay and cancel.wait(spec.initial_delay):
        return Outcome.failed(f"interrupted during the initial delay of {format_duration(spec.initial_delay)}")
    taken: list[Measurement] = []
    failures = 0
    for index in range(spec.count):
        if index and cancel.wait(spec.interval):
            return _verdict(taken, failures, spec, interrupted=True)
        taken.append(measure())
        failures += not taken[-1].passed
        if failures > spec.failure_limit:
            break
    return _verdict(taken, failures, spec)


def _verdict(taken: list[Measurement], failures: int, spec: AnalysisParams, *, interrupted: bool = False) -> Outcome:
    last = taken[-1]
    detail: dict[str, Any] = dict(last.detail)
    detail["measurements"] = [{"value": m.value, "passed": m.passed, "summary": m.summary} for m in taken]
    if interrupted:
        return Outcome.failed(f"interrupted after {len(taken)} of {spec.count} measurements", **detail)
    passed = [m for m in taken if m.passed]
    # Not even one measurement passed: never a pass, whatever failure_limit allows.
    if failures > spec.failure_limit or not passed:
        worst = next(m for m in reversed(taken) if not m.passed)
        detail.update(worst.detail)
        summary = worst.summary
        if spec.count > 1 or spec.failure_limit:
            summary += f" [{failures} of {len(taken)} measurements failed, limit {spec.failure_limit}]"
        return Outcome.failed(summary, **detail)
    # Within the failure limit: report the newest measurement that passed.
    newest = passed[-1]
    detail.update(newest.detail)
    summary = newest.summary
    if spec.count > 1:
        summary += f" [{spec.count - failures} of {spec.count} measurements passed]"
    return Outcome.passed(summary, **detail)
