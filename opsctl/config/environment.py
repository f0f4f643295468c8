"""environments.NAME: one environment's platform, health, gates and policy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from opsctl.config.base import Model
from opsctl.config.health import HealthConfig
from opsctl.config.migrate import MigrateConfig
from opsctl.config.platform import PlatformConfig
from opsctl.config.verify import VerifyFamilies


class Requires(Model):
    promoted_from: str | None = None
    approvals: int = Field(0, ge=0)


class FreezeWindow(Model):
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    reason: str = "change freeze"

    @model_validator(mode="after")
    def _ordered(self) -> FreezeWindow:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("give times with a zone, like 2026-12-24T00:00:00Z")
        if self.end <= self.start:
            raise ValueError("'to' must be after 'from'")
        return self


class GitPolicy(Model):
    branch: str | list[str] | None = None
    tag_pattern: str | None = Field(None, description="regex the image tag must match to be a git tag")


class Environment(Model):
    protected: bool = False
    platform: PlatformConfig
    health: HealthConfig | None = None
    requires: Requires = Requires()
    freeze: list[FreezeWindow] = Field(default_factory=list)
    git: GitPolicy = GitPolicy()
    vars: dict[str, Any] = Field(default_factory=dict, description="free values for templates: env.vars.x")
    verify: VerifyFamilies = VerifyFamilies()
    migrate: MigrateConfig | None = None  # database migrations run by the deploy before traffic moves
