"""environments.NAME.migrate: database migrations run as a step of the deploy, before traffic moves.

``migrate: {command: [alembic, upgrade, head], timeout: 10m}`` makes the deploy
runbook run ``command`` once with the new image (ECS: a one-off task of the new
task definition revision; Fly: a one-off machine) and stop the deploy when it
does not exit 0.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from opsctl.config.base import Duration, Model

DEFAULT_TIMEOUT = 600.0  # 10m: long enough for a real schema change, short enough to notice a hung one
DEFAULT_LOG_LINES = 50


class MigrateConfig(Model):
    """How an environment's database migrations run (an argv, never a shell string)."""

    command: list[str] = Field(description="argv run instead of the image's command")
    timeout: Duration = Field(DEFAULT_TIMEOUT, description="how long the migration may run")
    log_lines: int = Field(DEFAULT_LOG_LINES, ge=0, le=1000, description="last lines of its logs to show")

    @field_validator("command")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give the migration command as a list of words, like [alembic, upgrade, head]")
        if any(not word.strip() for word in value):
            raise ValueError("every word of the command must be non-empty, like [alembic, upgrade, head]")
        return value
