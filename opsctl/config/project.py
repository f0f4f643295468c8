"""The whole opsctl.yaml: the service, its environments and the project-wide settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr

from opsctl.config.base import CONFIG_NAME, Duration, EnvVarName, Model, Name
from opsctl.config.contacts import Contacts, OncallSetting
from opsctl.config.environment import Environment
from opsctl.config.notify import Notify
from opsctl.config.slo_policy import SloPolicy
from opsctl.config.verify import RegistryAccess, ScanLimits
from opsctl.errors import BadInput
from opsctl.files.paths import display_path
from opsctl.values.urls import HttpUrl


class Slo(SloPolicy):
    p95_ms: float = Field(2000, gt=0)
    error_rate: float = Field(0.01, ge=0, le=1)
    error_window: Duration = 300.0
    db_pool_utilization: float = Field(0.8, gt=0, le=1)


class GitHubConfig(Model):
    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name")
    token_env: EnvVarName = "GITHUB_TOKEN"  # noqa: S105 - the name of an env var, not a token
    api_url: HttpUrl = "https://api.github.com"
    deployments: bool = Field(True, description="a GitHub Deployment (and statuses) per deploy, rollback, hot-patch")


class Locks(Model):
    backend: Literal["file", "dynamodb", "kubernetes"] = "file"
    table: str = "opsctl-locks"
    ttl: Duration = 7200.0
    region: str | None = None
    endpoint_url: HttpUrl | None = None
    # backend kubernetes: a coordination.k8s.io/v1 Lease per environment in this namespace
    namespace: str | None = Field(None, description="kubernetes: namespace of the Leases (required)")
    context: str | None = Field(None, description="kubernetes: kubeconfig context (default: the current one)")
    kubeconfig: str | None = Field(None, description="kubernetes: kubeconfig file (default: $KUBECONFIG)")


class S3Audit(Model):
    bucket: str
    prefix: str = "opsctl/"
    region: str | None = None
    endpoint_url: HttpUrl | None = None
    signing_key_env: EnvVarName | None = Field(None, description="env var with an Ed25519 private key (PEM)")
    kms_key_id: str | None = None
    public_key: str | None = Field(
        None, description="Ed25519 public key (PEM or base64) to verify checkpoint signatures without the private key"
    )


class Audit(Model):
    s3: S3Audit | None = None
    hmac_key_env: EnvVarName | None = Field(
        None,
        description="env var whose value keys an HMAC on every audit event; promotion, rollback targets and "
        "audit.verified_in then count only events that carry a valid one",
    )


class Config(Model):
    service: Name
    state_dir: str = ".opsctl"
    environments: dict[Name, Environment] = Field(min_length=1)
    slo: Slo = Slo()
    notify: Notify = Notify()
    locks: Locks = Locks()
    audit: Audit = Audit()
    github: GitHubConfig | None = None
    contacts: Contacts = Field(default_factory=dict, description="people by name: {tech_lead: {email: ...}}")
    oncall: OncallSetting = None  # after contacts: its escalation is checked against them
    registries: dict[str, RegistryAccess] = Field(default_factory=dict, description="per registry host")
    scan: ScanLimits | None = None

    _path: Path = PrivateAttr(default=Path(CONFIG_NAME))
    _secret_envs: frozenset[str] = PrivateAttr(default=frozenset())

    @property
    def path(self) -> Path:
        return self._path

    @property
    def project_dir(self) -> Path:
        return self._path.parent

    @property
    def state_path(self) -> Path:
        """The state folder, absolute; symlinks resolved unless broken or looping.

        A broken link often means an unmounted volume: resolving it would let
        ``ensure_state_dir`` create the target on the wrong disk, so the link
        itself is returned and reported there.
        """
        path = self.project_dir / self.state_dir
        if path.is_symlink() and not path.exists():
            return path.absolute()
        try:
            return path.resolve()
        except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
            return path.absolute()

    @property
    def secret_env_names(self) -> frozenset[str]:
        """Env vars named by ``*_env`` keys: their values are secrets."""
        return self._secret_envs

    def environment(self, name: str) -> Environment:
        try:
            return self.environments[name]
        except KeyError:
            known = ", ".join(self.environments)
            raise BadInput(f"unknown environment '{name}' (defined in {display_path(self._path)}: {known})") from None
