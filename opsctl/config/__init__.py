"""opsctl.yaml: the models (pydantic) and loading with ``file:line`` errors (DESIGN section 3).

One module per part of the file; this package re-exports the names callers use,
so ``from opsctl.config import Config`` keeps working wherever a model lives.
"""

from __future__ import annotations

from opsctl.config.base import CONFIG_NAME, Delay, Duration, EnvVarName, Model, Name
from opsctl.config.environment import Environment, FreezeWindow, GitPolicy, Requires
from opsctl.config.health import HealthConfig, HealthPaths, SyntheticCheck
from opsctl.config.loading import config_schema, find_config, load_config, reject_inline_secrets
from opsctl.config.notify import Notify, PagerDutyNotify, SlackNotify, WebhookNotify
from opsctl.config.platform import EcsPlatformConfig, FlyPlatformConfig, PlatformConfig
from opsctl.config.project import Audit, Config, GitHubConfig, Locks, S3Audit, Slo

__all__ = [
    "CONFIG_NAME",
    "Audit",
    "Config",
    "Delay",
    "Duration",
    "EcsPlatformConfig",
    "EnvVarName",
    "Environment",
    "FlyPlatformConfig",
    "FreezeWindow",
    "GitHubConfig",
    "GitPolicy",
    "HealthConfig",
    "HealthPaths",
    "Locks",
    "Model",
    "Name",
    "Notify",
    "PagerDutyNotify",
    "PlatformConfig",
    "Requires",
    "S3Audit",
    "SlackNotify",
    "Slo",
    "SyntheticCheck",
    "WebhookNotify",
    "config_schema",
    "find_config",
    "load_config",
    "reject_inline_secrets",
]
