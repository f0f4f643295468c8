"""health: where the bot answers and where its metrics are read."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from opsctl.config.analysis import AnalysisConfig, PrometheusSeries
from opsctl.config.base import Duration, EnvVarName, Model
from opsctl.values.urls import HttpUrl


class HealthPaths(Model):
    health: str = "/health"
    dependencies: str = "/health/dependencies"
    metrics: str = "/metrics"


class SyntheticCheck(Model):
    """A request that exercises core functionality (e.g. a test guest message)."""

    method: Literal["GET", "POST"] = "POST"
    path: str
    json_body: dict[str, Any] | None = Field(None, alias="json")
    status: int = 200
    expect: dict[str, Any] = Field(default_factory=dict, description="field path -> expected value")
    contains: str | None = Field(None, description="text the response body must contain")


class HealthConfig(Model):
    base_url: HttpUrl
    paths: HealthPaths = HealthPaths()
    timeout: Duration = 5.0
    required_dependencies: list[str] = ["database", "openai", "whatsapp"]
    degraded: Literal["warn", "fail"] = "warn"
    version_probes: int = Field(3, ge=1, le=50)
    synthetic: SyntheticCheck | None = None
    prometheus_url: HttpUrl | None = Field(None, description="Prometheus HTTP API base URL for metrics")
    prometheus: PrometheusSeries = PrometheusSeries()
    alertmanager_url: HttpUrl | None = Field(None, description="Alertmanager base URL (monitoring.alerting)")
    cloudwatch: dict[str, str | list[str]] | None = Field(
        None,
        description="ALB metrics and alarms: {load_balancer: app/NAME/ID, target_group: targetgroup/NAME/ID, "
        "region, alarm_prefix, alarm_names: [...], delay: 1m}",
    )
    analysis: AnalysisConfig = AnalysisConfig()
    headers_env: dict[str, EnvVarName] = Field(
        default_factory=dict, description="request header -> env var holding its value"
    )
