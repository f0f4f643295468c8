"""Repeated measurements with progressive-delivery semantics (Argo Rollouts / Flagger analysis).

Two schedules, one verdict:

- :func:`run_analysis`: ``count`` measurements, ``interval`` apart, after
  ``initial_delay`` (the synthetic sampler, the DB pool, a look without a rollout);
- :func:`run_windows`: one reading per analysis window after the rollout
  (:mod:`opsctl.health.window`), each taken once its window has ended.

A reading passes, fails or is inconclusive (too little traffic to judge).
The analysis fails as soon as more than ``failure_limit`` readings failed and
is inconclusive as soon as more than ``inconclusive_limit`` were; it passes
only when at least one reading passed. A measurement without data is a
failure, never a pass: a silent metrics pipeline must not wave a bad release
through. An inconclusive analysis fails or warns as the window spec says.
Every wait ends early when the run's cancel event is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from opsctl.config import Delay
from opsctl.engine.outcome import Outcome
from opsctl.health.window import Window, WindowSpec
from opsctl.values.durations import format_duration


class AnalysisParams(BaseModel):
    """The ``with:`` keys shared by the SLO actions (``metrics.*``)."""

    model_config = ConfigDict(extra="forbid")
    count: int = Field(1, ge=1, le=1000, description="measurements to take")
    interval: Delay = Field(30.0, description="pause between measurements (window length after a rollout)")
    failure_limit: int = Field(0, ge=0, description="failed measurements tolerated")
    initial_delay: Delay = Field(0.0, description="wait before the first measurement")
    inconclusive_limit: int | None = Field(None, ge=0, description="default: health.analysis")
    min_requests: int | None = Field(None, ge=0, description="default: health.analysis")
    inconclusive: Literal["fail", "warn"] | None = Field(None, description="default: health.analysis")


@dataclass(frozen=True)
class Measurement:
    """One look at a metric. ``value`` None means no data (which fails, unless inconclusive)."""

    value: float | None
    passed: bool
    summary: str  # one line, e.g. "p95 412ms > 300ms (p50 405ms, p99 415ms; 10 requests to /health)"
    detail: dict[str, Any] = field(default_factory=dict)
    inconclusive: bool = False  # too little traffic to judge: neither a pass nor a failure

    @classmethod
    def no_data(cls, why: str, **detail: Any) -> Measurement:
        return cls(None, False, f"no data: {why}", detail)

    @classmethod
    def too_little(cls, why: str, **detail: Any) -> Measurement:
        return cls(None, False, f"inconclusive: {why}", detail, inconclusive=True)

    @property
    def verdict(self) -> str:
        return "inconclusive" if self.inconclusive else "passed" if self.passed else "failed"


@dataclass
class _Tally:
    """The readings so far and the limits they are held to."""

    count: int
    failure_limit: int
    inconclusive_limit: int | None  # None: inconclusive readings are failures (legacy schedule)
    on_inconclusive: Literal["fail", "warn"] = "fail"
    word: str = "measurements"
    taken: list[Measurement] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return sum(not m.passed and not m.inconclusive for m in self.taken)

    @property
    def inconclusives(self) -> int:
        return sum(m.inconclusive for m in self.taken)

    def add(self, measurement: Measurement) -> bool:
        """Record a reading; True when the verdict is already certain (stop early)."""
        if measurement.inconclusive and self.inconclusive_limit is None:
            measurement = Measurement(None, False, measurement.summary, measurement.detail)
        self.taken.append(measurement)
        return self.failures > self.failure_limit or (
            self.inconclusive_limit is not None and self.inconclusives > self.inconclusive_limit
        )


def run_analysis(measure: Callable[[], Measurement], spec: AnalysisParams, cancel: threading.Event) -> Outcome:
    """Take the measurements of ``spec`` and turn them into one Outcome."""
    if spec.initial_delay and cancel.wait(spec.initial_delay):
        return Outcome.failed(f"interrupted during the initial delay of {format_duration(spec.initial_delay)}")
    tally = _Tally(spec.count, spec.failure_limit, spec.inconclusive_limit, spec.inconclusive or "fail")
    for index in range(spec.count):
        if index and cancel.wait(spec.interval):
            return _verdict(tally, interrupted=True)
        if tally.add(measure()):
            break
    return _verdict(tally)


def run_windows(
    read: Callable[[Window], Measurement],
    windows: list[Window],
    spec: WindowSpec,
    *,
    cancel: threading.Event,
    clock: Callable[[], datetime],
    report: Callable[[Window, Measurement], None] | None = None,
    settle: float = 0.0,
) -> Outcome:
    """Read each window ``settle`` seconds after it ended (at once if that is past); ``report`` sees each reading.

    ``settle`` lets a source that publishes late (CloudWatch: once a minute) catch up with the window.
    """
    tally = _Tally(spec.count, spec.failure_limit, spec.inconclusive_limit, spec.inconclusive, "readings")
    for window in windows:
        wait = (window.end - clock()).total_seconds() + settle
        if wait > 0 and cancel.wait(wait):
            if not tally.taken:
                return Outcome.failed(f"interrupted before the first reading (window {window.describe()})")
            return _verdict(tally, interrupted=True)
        measurement = read(window)
        measurement = Measurement(
            measurement.value,
            measurement.passed,
            measurement.summary,
            {**measurement.detail, "window": window.describe()},
            measurement.inconclusive,
        )
        if report is not None:
            report(window, measurement)
        if tally.add(measurement):
            break
    return _verdict(tally)


def _readings(tally: _Tally) -> list[dict[str, Any]]:
    rows = []
    for m in tally.taken:
        row: dict[str, Any] = {"value": m.value, "passed": m.passed, "verdict": m.verdict, "summary": m.summary}
        if "window" in m.detail:
            row["window"] = m.detail["window"]
        rows.append(row)
    return rows


def _verdict(tally: _Tally, *, interrupted: bool = False) -> Outcome:
    taken, word = tally.taken, tally.word
    detail: dict[str, Any] = dict(taken[-1].detail)
    detail["measurements"] = _readings(tally)
    if interrupted:
        return Outcome.failed(f"interrupted after {len(taken)} of {tally.count} {word}", **detail)
    passed = [m for m in taken if m.passed]
    failures, inconclusives = tally.failures, tally.inconclusives
    if failures > tally.failure_limit or (failures and not passed and not inconclusives):
        worst = next(m for m in reversed(taken) if not m.passed and not m.inconclusive)
        detail.update(worst.detail)
        summary = worst.summary
        if tally.count > 1 or tally.failure_limit:
            summary += f" [{failures} of {len(taken)} {word} failed, limit {tally.failure_limit}]"
        detail["verdict"] = "failed"
        return Outcome.failed(summary, **detail)
    # Too little traffic to judge, or no reading passed: never a pass.
    if not passed or (tally.inconclusive_limit is not None and inconclusives > tally.inconclusive_limit):
        newest = next(m for m in reversed(taken) if m.inconclusive)
        detail.update(newest.detail)
        summary = f"{newest.summary} [{inconclusives} of {len(taken)} {word} inconclusive"
        summary += f", limit {tally.inconclusive_limit}]" if tally.inconclusive_limit is not None else "]"
        detail["verdict"] = "inconclusive"
        if tally.on_inconclusive == "fail":
            return Outcome.failed(summary, **detail)
        return Outcome.warned(summary, **detail)
    # Within the limits: report the newest reading that passed.
    newest = passed[-1]
    detail.update(newest.detail)
    summary = newest.summary
    if tally.count > 1:
        summary += f" [{len(passed)} of {tally.count} {word} passed]"
    detail["verdict"] = "passed"
    return Outcome.passed(summary, **detail)
