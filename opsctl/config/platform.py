"""platform: which container platform an environment runs on, and how to reach it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from opsctl.config.base import Duration, EnvVarName, Model
from opsctl.config.kube import KubernetesPlatformConfig
from opsctl.values.durations import DURATION_PATTERN, parse_duration
from opsctl.values.urls import HttpUrl

# A rollout is polled at least this often, so that a failure is noticed within seconds (issue 19).
MAX_POLL_INTERVAL = 5.0


def _poll_interval(value: Any) -> float:
    return parse_duration(value, maximum=MAX_POLL_INTERVAL, allow_zero=False)


PollInterval = Annotated[
    float,
    BeforeValidator(_poll_interval),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["2s"]}),
]
"""The steady delay between status polls while a rollout runs: longer than 0, at most 5s."""


class EcsPlatformConfig(Model):
    kind: Literal["ecs"]
    region: str | None = None
    cluster: str
    service: str
    container: str
    endpoint_url: HttpUrl | None = Field(None, description="a local AWS endpoint (tests, sandbox)")
    profile: str | None = Field(None, description="AWS profile name (else the standard boto3 chain)")
    poll_interval: PollInterval = Field(2.0, description="steady delay between status polls (at most 5s)")
    stall_timeout: Duration = Field(180.0, description="fail when no new task reaches RUNNING within this")
    log_lines: int = Field(50, ge=0, le=10000, description="CloudWatch Logs lines shown when a rollout fails")


class FlyPlatformConfig(Model):
    kind: Literal["fly"]
    app: str
    api_url: HttpUrl = "https://api.machines.dev"
    token_env: EnvVarName = "FLY_API_TOKEN"  # noqa: S105 - the name of an env var, not a token
    strategy: Literal["rolling", "canary", "immediate"] = "rolling"
    max_unavailable: int = Field(1, ge=1)
    lease_ttl: Duration = Field(900.0, description="how long machine leases last; renewed while deploying")
    poll_interval: PollInterval = Field(2.0, description="steady delay between machine polls (at most 5s)")
    stall_timeout: Duration = Field(180.0, description="fail when an updated machine has not started within this")


PlatformConfig = Annotated[
    EcsPlatformConfig | FlyPlatformConfig | KubernetesPlatformConfig, Field(discriminator="kind")
]
