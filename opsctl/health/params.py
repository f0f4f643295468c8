"""The ``with:`` models of the ``health.*`` and ``metrics.*`` actions.

Every key is optional: ``uses: health.live`` with no ``with:`` works from the
environment's ``health:`` config and the top-level ``slo:`` targets. ``None``
means "take it from the config".
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from opsctl.config import Duration
from opsctl.health.analysis import AnalysisParams

# "sampled" is the old name of "synthetic" (requests opsctl sends itself), still accepted.
Source = Literal["auto", "prometheus", "cloudwatch", "synthetic", "sampled"]
SOURCE_HELP = "auto: prometheus, else cloudwatch, else synthetic (requests opsctl sends, labelled synthetic)"


class ProbeParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    base_url: str | None = Field(None, description="default: the environment's health.base_url")
    timeout: Duration | None = Field(None, description="per request; default: health.timeout")
    retries: int = Field(2, ge=0, le=10, description="re-sends of a GET after 429/502/503/504 or a refused connection")


class LiveParams(ProbeParams):
    path: str | None = Field(None, description="default: health.paths.health")


class VersionParams(ProbeParams):
    version: str | None = Field(None, description="expected; default: the tag of the release just deployed")
    probes: int | None = Field(None, ge=1, le=50, description="default: health.version_probes")
    concurrency: int = Field(10, ge=1, le=50)
    path: str | None = Field(None, description="default: health.paths.health")
    field: str = Field("version", description="field path of the version in the answer")


class DependenciesParams(ProbeParams):
    required: list[str] | None = Field(None, description="default: health.required_dependencies")
    degraded: Literal["warn", "fail"] | None = Field(None, description="default: health.degraded")
    path: str | None = Field(None, description="default: health.paths.dependencies")


class SyntheticParams(ProbeParams):
    """Each key given here replaces the same key of ``health.synthetic``."""

    method: Literal["GET", "POST"] | None = None
    path: str | None = None
    json_body: dict[str, Any] | None = Field(None, alias="json")
    status: int | None = None
    expect: dict[str, Any] | None = Field(None, description="field path -> expected value")
    contains: str | None = None
    max_ms: float | None = Field(None, gt=0)


class SloParams(ProbeParams, AnalysisParams):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TrafficParams(SloParams):
    """What the real-traffic SLO actions share: the source and the per-reading health guard."""

    source: Source = Field("auto", description=SOURCE_HELP)
    prometheus_url: str | None = Field(None, description="default: health.prometheus_url")
    guard: bool = Field(True, description="probe /health and the served version at every reading")


class LatencyParams(TrafficParams):
    path: str | None = Field(None, description="synthetic source: default health.paths.health")
    samples: int = Field(20, ge=1, le=1000, description="requests per measurement")
    concurrency: int = Field(5, ge=1, le=50)
    warmup: int = Field(2, ge=0, le=100, description="requests sent first and not counted")
    p95_ms: float | None = Field(None, gt=0, description="default: slo.p95_ms")


class ErrorSourceParams(BaseModel):
    """Where an error rate comes from; shared by metrics.error_rate and metrics.baseline."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    source: Source = Field("auto", description=SOURCE_HELP)
    window: Duration | None = Field(None, description="without a rollout in the run: default slo.error_window")
    query: str | None = Field(None, description="PromQL giving the 5xx ratio; {window} is replaced")
    prometheus_url: str | None = Field(None, description="default: health.prometheus_url")
    path: str | None = Field(None, description="sampled source: default health.paths.health")
    samples: int = Field(50, ge=1, le=5000, description="sampled source: requests")
    concurrency: int = Field(5, ge=1, le=50)


class ErrorRateParams(TrafficParams, ErrorSourceParams):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    max_rate: float | None = Field(None, ge=0, le=1, description="default: slo.error_rate")
    baseline: bool = Field(True, description="also compare with the rate metrics.baseline recorded")
    tolerance: float = Field(0.005, ge=0, le=1, description="allowed increase over the baseline (0.005 = 0.5 points)")


class BaselineParams(ProbeParams, ErrorSourceParams):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    # Before a deploy, fewer requests sent more at once than a post-deploy reading: one set of them gives
    # both the error rate and the latency, and real-traffic sources need none at all (issue 19).
    samples: int = Field(20, ge=1, le=5000, description="synthetic source: requests (they also give the p95)")
    concurrency: int = Field(10, ge=1, le=50)
    latency_samples: int | None = Field(
        None,
        ge=0,
        le=1000,
        description="separate requests for the p95 baseline; default: the synthetic source's own, none with "
        "real traffic; 0: none",
    )


class DbPoolParams(SloParams):
    max_utilization: float | None = Field(None, gt=0, le=1, description="default: slo.db_pool_utilization")
    source: Literal["dependencies", "prometheus"] | None = Field(
        None, description="default: prometheus when query is given, else the bot's dependencies endpoint"
    )
    dependency: str = Field("database", description="the entry of /health/dependencies with the pool")
    path: str | None = Field(None, description="default: health.paths.dependencies")
    query: str | None = Field(None, description="PromQL giving the utilization (0..1); has a default")
    prometheus_url: str | None = Field(None, description="default: health.prometheus_url")


class FreshParams(ProbeParams):
    source: Literal["auto", "endpoint", "prometheus", "cloudwatch"] = Field(
        "auto", description="auto: prometheus, else cloudwatch, else the bot's metrics endpoint"
    )
    max_age: Duration = Field(300.0, description="newest data point at most this old")
    query: str | None = Field(None, description="PromQL giving the newest sample's Unix time")
    prometheus_url: str | None = Field(None, description="default: health.prometheus_url")
    path: str | None = Field(None, description="default: health.paths.metrics")
    require: list[str] = Field(default_factory=list, description="metric names the endpoint must expose")


class AlertingParams(ProbeParams):
    """``monitoring.alerting``: each key replaces the environment's config for this check."""

    prometheus_url: str | None = Field(None, description="default: health.prometheus_url")
    alertmanager_url: str | None = Field(None, description="default: health.alertmanager_url")
    alert_labels: dict[str, str] | None = Field(
        None, description="labels of the service's alerting rules; default: health.prometheus.alert_labels"
    )
    alert_rules: list[str] | None = Field(None, description="rule names that must be loaded")
    max_age: Duration = Field(300.0, description="freshness: newest data point at most this old")
    fresh: bool = Field(True, description="also check that metrics are fresh (metrics.fresh)")
