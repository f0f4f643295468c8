"""health.prometheus and health.analysis: which series are the service's real traffic, and how long to watch it.

``health.analysis`` keys left out take the defaults of the environment's kind:
a protected environment watches five one-minute windows after the rollout, an
unprotected one a single half-minute window (:data:`PROTECTED_DEFAULTS`,
:data:`DEFAULTS`). The protected defaults apply to real-traffic sources
(Prometheus, CloudWatch); the synthetic sampler keeps one reading unless a key
is set here or in ``with:``, since repeating a sample of ``/health`` says little.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from opsctl.config.base import Delay, Duration, Model

METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
# Probes and scrapes are not users: leave them out of "real traffic" (the ALB does the same
# with its health checks). A matcher on a label a series lacks is true, so this is harmless
# where requests carry no `path` label.
DEFAULT_SELECTOR = 'path!~"/health.*|/metrics"'

Inconclusive = Literal["fail", "warn"]


class PrometheusSeries(Model):
    """The series that hold the service's real traffic, and the alerting rules that watch it."""

    histogram: str = Field(
        "http_request_duration_seconds", pattern=METRIC_NAME, description="request duration histogram (no _bucket)"
    )
    counter: str = Field("http_requests_total", pattern=METRIC_NAME, description="request counter with a status label")
    status_label: str = Field("status", pattern=LABEL_NAME)
    version_label: str | None = Field(
        "version", pattern=LABEL_NAME, description="label naming the release; used when the series carry it"
    )
    selector: str = Field(
        DEFAULT_SELECTOR,
        pattern=r"^[^{}]*$",
        description='extra label matchers, without braces, e.g. job="hvb", path!~"/health.*"',
    )
    alert_labels: dict[str, str] = Field(
        default_factory=dict, description="labels that mark the service's alerting rules; default {service: SERVICE}"
    )
    alert_rules: list[str] = Field(default_factory=list, description="alerting rule names that must be loaded")


class AnalysisConfig(Model):
    """Readings after a rollout; a key left out takes the default of the environment's kind."""

    initial_delay: Delay | None = Field(None, description="after the rollout, before the first window starts")
    interval: Duration | None = Field(None, description="length of each window (one reading per window)")
    count: int | None = Field(None, ge=1, le=1000, description="readings")
    failure_limit: int | None = Field(None, ge=0, description="failed readings tolerated")
    inconclusive_limit: int | None = Field(None, ge=0, description="inconclusive readings tolerated")
    min_requests: int | None = Field(None, ge=0, description="fewer requests in a window make it inconclusive")
    inconclusive: Inconclusive | None = Field(
        None, description="what an inconclusive analysis does; default fail when protected, else warn"
    )

    def resolved(self, protected: bool) -> dict[str, Any]:
        """Every key, the ones not set taken from the defaults of a (un)protected environment."""
        values = dict(PROTECTED_DEFAULTS if protected else DEFAULTS)
        values.update(self.model_dump(exclude_none=True))
        return values

    def given(self) -> dict[str, Any]:
        """Only the keys the file sets."""
        return self.model_dump(exclude_none=True)


PROTECTED_DEFAULTS: dict[str, Any] = {
    "initial_delay": 30.0,
    "interval": 60.0,
    "count": 5,
    "failure_limit": 0,
    "inconclusive_limit": 1,
    "min_requests": 50,
    "inconclusive": "fail",
}
DEFAULTS: dict[str, Any] = {
    "initial_delay": 0.0,
    "interval": 30.0,
    "count": 1,
    "failure_limit": 0,
    "inconclusive_limit": 0,
    "min_requests": 10,
    "inconclusive": "warn",
}
