"""Container platform drivers, made by :func:`make_platform`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsctl.config import Environment
    from opsctl.platforms.base import Platform
    from opsctl.values.redact import Redactor


def make_platform(env_config: Environment, redactor: Redactor) -> Platform:
    """The driver for an environment's ``platform:`` block; imports boto3/httpx only here.

    ``redactor`` learns the driver's secrets (the Fly token) before any call is made.
    """
    platform = env_config.platform
    if platform.kind == "ecs":
        from opsctl.platforms.ecs import EcsPlatform

        return EcsPlatform.from_config(platform, redactor=redactor)
    if platform.kind == "kubernetes":
        from opsctl.platforms.kube.driver import KubernetesPlatform

        return KubernetesPlatform.from_config(platform, redactor=redactor)
    from opsctl.platforms.fly import FlyPlatform

    return FlyPlatform.from_config(platform, redactor=redactor)
