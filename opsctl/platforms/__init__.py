"""Container platform drivers, made by :func:`make_platform`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsctl.engine.context import RunContext
    from opsctl.platforms.base import Platform


def make_platform(ctx: RunContext) -> Platform:
    """The driver for the run's environment; imports boto3/httpx only here."""
    platform = ctx.env.platform
    if platform.kind == "ecs":
        from opsctl.platforms.ecs import EcsPlatform

        return EcsPlatform.from_config(platform, redactor=ctx.redactor)
    from opsctl.platforms.fly import FlyPlatform

    return FlyPlatform.from_config(platform, redactor=ctx.redactor)
