"""slo: the availability objective, its period and the error budget policy (issue 17, items 3 and 4).

``Slo`` (config/project.py) extends :class:`SloPolicy`, so the keys sit beside
the latency and error-rate targets: ``slo: {availability: 0.999, period: 30d,
policy: warn}``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from opsctl.config.base import Model
from opsctl.values.durations import DAY, DURATION_PATTERN, parse_duration

MAX_PERIOD = 366 * DAY  # a year of budget; longer than any retention a source keeps
MIN_PERIOD = 3600.0  # shorter than the slowest burn-rate window (1h) makes the figures meaningless


def _period(value: Any) -> float:
    seconds = parse_duration(value, maximum=MAX_PERIOD, allow_zero=False)
    if seconds < MIN_PERIOD:
        raise ValueError("must be at least 1h")
    return seconds


Period = Annotated[
    float,
    BeforeValidator(_period),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["30d", "28d"]}),
]

BudgetPolicy = Literal["enforce", "warn", "off"]


class SloPolicy(Model):
    """The availability objective and what an exhausted (or fast-burning) error budget does to normal changes."""

    availability: float = Field(
        0.999, gt=0, lt=1, description="share of requests that must succeed over the period, e.g. 0.999"
    )
    period: Period = Field(30 * DAY, description="the rolling window the objective and its error budget cover")
    policy: BudgetPolicy = Field(
        "warn",
        description="enforce: refuse normal changes to protected environments while the budget is exhausted "
        "or burning fast; warn: say so and go ahead; off: do not read the budget",
    )
