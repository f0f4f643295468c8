"""opsctl.yaml: the models (pydantic) and loading with ``file:line`` errors (DESIGN section 3).

One module per part of the file; this package re-exports the names callers use,
so ``from opsctl.config import Config`` keeps working wherever a model lives.
"""

from __future__ import annotations

from opsctl.config.analysis import AnalysisConfig, PrometheusSeries
from opsctl.config.base import CONFIG_NAME, Delay, Duration, EnvVarName, Model, Name
from opsctl.config.contacts import Contact, Oncall, PagerDutyOncall, Rotation
from opsctl.config.email import EmailNotify
from opsctl.config.environment import Environment, FreezeWindow, GitPolicy, Requires
from opsctl.config.health import HealthConfig, HealthPaths, SyntheticCheck
from opsctl.config.incident_comms import GitHubIssueNotify, StatuspageNotify
from opsctl.config.kube import KubernetesPlatformConfig
from opsctl.config.loading import config_schema, find_config, load_config, reject_inline_secrets
from opsctl.config.migrate import MigrateConfig
from opsctl.config.notify import Notify, PagerDutyNotify, SlackNotify, WebhookNotify
from opsctl.config.platform import EcsPlatformConfig, FlyPlatformConfig, PlatformConfig
from opsctl.config.project import Audit, Config, GitHubConfig, Locks, S3Audit, Slo
from opsctl.config.slo_policy import BudgetPolicy, SloPolicy
from opsctl.config.verify import RegistryAccess, ScanLimits, VerifyFamilies

__all__ = [
    "CONFIG_NAME",
    "AnalysisConfig",
    "Audit",
    "BudgetPolicy",
    "Config",
    "Contact",
    "Delay",
    "Duration",
    "EcsPlatformConfig",
    "EmailNotify",
    "EnvVarName",
    "Environment",
    "FlyPlatformConfig",
    "FreezeWindow",
    "GitHubConfig",
    "GitHubIssueNotify",
    "GitPolicy",
    "HealthConfig",
    "HealthPaths",
    "KubernetesPlatformConfig",
    "Locks",
    "MigrateConfig",
    "Model",
    "Name",
    "Notify",
    "Oncall",
    "PagerDutyNotify",
    "PagerDutyOncall",
    "PlatformConfig",
    "PrometheusSeries",
    "RegistryAccess",
    "Requires",
    "Rotation",
    "S3Audit",
    "ScanLimits",
    "SlackNotify",
    "Slo",
    "SloPolicy",
    "StatuspageNotify",
    "SyntheticCheck",
    "VerifyFamilies",
    "WebhookNotify",
    "config_schema",
    "find_config",
    "load_config",
    "reject_inline_secrets",
]
