"""platform: which container platform an environment runs on, and how to reach it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from opsctl.config.base import Duration, EnvVarName, Model
from opsctl.values.urls import HttpUrl


class EcsPlatformConfig(Model):
    kind: Literal["ecs"]
    region: str | None = None
    cluster: str
    service: str
    container: str
    endpoint_url: HttpUrl | None = Field(None, description="a local AWS endpoint (tests, sandbox)")
    profile: str | None = Field(None, description="AWS profile name (else the standard boto3 chain)")
    poll_interval: Duration = Field(5.0, description="first delay between status polls; backs off")


class FlyPlatformConfig(Model):
    kind: Literal["fly"]
    app: str
    api_url: HttpUrl = "https://api.machines.dev"
    token_env: EnvVarName = "FLY_API_TOKEN"  # noqa: S105 - the name of an env var, not a token
    strategy: Literal["rolling", "canary", "immediate"] = "rolling"
    max_unavailable: int = Field(1, ge=1)
    lease_ttl: Duration = Field(900.0, description="how long machine leases last; renewed while deploying")
    poll_interval: Duration = 2.0


PlatformConfig = Annotated[EcsPlatformConfig | FlyPlatformConfig, Field(discriminator="kind")]
