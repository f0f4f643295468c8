"""Analysis windows after the rollout: when real-traffic readings start, how long each covers, how many.

The run's journal says when the rollout finished (the newest step or item of
this run whose outcome carries ``rollout: stable``). Windows start there plus
``initial_delay`` and follow each other without gaps or overlap, so every
reading covers post-change time only and traffic of the release before never
counts. Without a rollout in the run (``opsctl health ENV``, a checklist run on
its own) there is no "after": readings then cover the trailing
``slo.error_window`` (see :mod:`opsctl.health.slo`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from opsctl.values.durations import format_duration

if TYPE_CHECKING:
    from pydantic import BaseModel

    from opsctl.health.context import ProbeContext

_KEYS = ("initial_delay", "interval", "count", "failure_limit", "inconclusive_limit", "min_requests", "inconclusive")
STABLE = "stable"


@dataclass(frozen=True)
class WindowSpec:
    """The analysis of one environment, config defaults and ``with:`` keys merged."""

    initial_delay: float
    interval: float
    count: int
    failure_limit: int
    inconclusive_limit: int
    min_requests: int
    inconclusive: Literal["fail", "warn"]

    def describe(self) -> str:
        """``5 readings 1m00s apart after 30.0s``: for messages."""
        readings = "1 reading" if self.count == 1 else f"{self.count} readings"
        return f"{readings} of {format_duration(self.interval)} after {format_duration(self.initial_delay)}"


@dataclass(frozen=True)
class Window:
    """The span one reading covers: ``start`` (exclusive) to ``end`` (inclusive), UTC."""

    index: int  # 1-based
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def describe(self) -> str:
        """``10:01:00-10:02:00``: the window in messages (UTC)."""
        return f"{self.start:%H:%M:%S}-{self.end:%H:%M:%S}"


def window_spec(ctx: ProbeContext, params: BaseModel) -> WindowSpec:
    """The environment's ``health.analysis`` (defaults by protection), ``with:`` keys given replacing them.

    ``params`` is an action's ``with:`` model (:class:`~opsctl.health.analysis.AnalysisParams`).
    """
    env = ctx.env
    analysis = env.health.analysis.resolved(env.protected) if env.health is not None else {}
    values: dict[str, Any] = {key: analysis[key] for key in _KEYS if key in analysis}
    for key in _KEYS:
        given = getattr(params, key, None)
        if key in params.model_fields_set and given is not None:
            values[key] = given
    return WindowSpec(**values)


def rollout_finished_at(ctx: ProbeContext) -> datetime | None:
    """When this run's newest successful rollout (deploy, hot-patch or rollback) finished; None if none."""
    journal, run_id = getattr(ctx, "journal", None), getattr(ctx, "run_id", None)
    if journal is None or not isinstance(run_id, str):
        return None  # an ad-hoc look: no run
    # The journal's own line reader (already loaded with it): opsctl.audit.query costs a third of a
    # second to import, which every SLO action would pay before its first reading.
    from opsctl.audit.line import decode_line, parse_ts

    run_mark = f'"run":{json.dumps(run_id)}'.encode()
    rollout_mark = f'"rollout":"{STABLE}"'.encode()
    finished = None
    path = journal.log.path
    if not path.exists():
        return None
    with path.open("rb") as handle:
        for raw in handle:
            if run_mark not in raw or rollout_mark not in raw or not raw.endswith(b"\n"):
                continue
            event = decode_line(raw) or {}
            detail = event.get("detail")
            ours = event.get("run") == run_id and event.get("status") == "passed"
            if ours and isinstance(detail, dict) and detail.get("rollout") == STABLE:
                finished = event.get("ts")
    if not isinstance(finished, str):
        return None
    try:
        return parse_ts(finished)
    except ValueError:
        return None


def plan_windows(spec: WindowSpec, rolled_out: datetime) -> list[Window]:
    """``count`` back-to-back windows of ``interval``, the first starting ``initial_delay`` after the rollout."""
    begins = rolled_out + timedelta(seconds=spec.initial_delay)
    step = timedelta(seconds=spec.interval)
    return [Window(k, begins + (k - 1) * step, begins + k * step) for k in range(1, spec.count + 1)]


def trailing_window(now: datetime, seconds: float) -> Window:
    """The one window of a look without a rollout: the last ``seconds`` up to now."""
    return Window(1, now - timedelta(seconds=seconds), now)
