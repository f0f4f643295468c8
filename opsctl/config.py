"""opsctl.yaml: the models (pydantic) and loading with ``file:line`` errors (DESIGN section 3)."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from opsctl.errors import BadInput, ConfigError
from opsctl.files.paths import display_path
from opsctl.files.yamlsrc import YamlDoc, load_yaml_mapping, validation_error
from opsctl.values.durations import DURATION_PATTERN, MAX_TIMEOUT, parse_duration, parse_timeout
from opsctl.values.urls import HttpUrl

CONFIG_NAME = "opsctl.yaml"


def _delay(value: Any) -> float:
    return parse_duration(value, maximum=MAX_TIMEOUT)


# The parsers' ValueError text ("must be longer than 0") becomes the `file:line: key: ...` message.
_DURATION_SCHEMA = WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["30s", "5m"]})
Duration = Annotated[float, BeforeValidator(parse_timeout), _DURATION_SCHEMA]
"""A timeout, interval, TTL or window in a file: longer than 0, at most 30 days."""
Delay = Annotated[float, BeforeValidator(_delay), _DURATION_SCHEMA]
"""A pause where 0 means "none" (``initial_delay: 0s``); at most 30 days."""
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
EnvVarName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="name of an environment variable")]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


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
    cloudwatch: dict[str, str] | None = Field(
        None, description="ALB metrics: {load_balancer: app/name/id, region: ...}"
    )
    headers_env: dict[str, EnvVarName] = Field(
        default_factory=dict, description="request header -> env var holding its value"
    )


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


class Slo(Model):
    p95_ms: float = Field(2000, gt=0)
    error_rate: float = Field(0.01, ge=0, le=1)
    error_window: Duration = 300.0
    db_pool_utilization: float = Field(0.8, gt=0, le=1)


class SlackNotify(Model):
    webhook_env: EnvVarName = "SLACK_WEBHOOK_URL"
    channel: str | None = None


class PagerDutyNotify(Model):
    routing_key_env: EnvVarName = "PAGERDUTY_ROUTING_KEY"
    api_url: HttpUrl = "https://events.pagerduty.com"


class WebhookNotify(Model):
    url_env: EnvVarName = "OPSCTL_WEBHOOK_URL"


class Notify(Model):
    slack: SlackNotify | None = None
    pagerduty: PagerDutyNotify | None = None
    webhook: WebhookNotify | None = None


class GitHubConfig(Model):
    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name")
    token_env: EnvVarName = "GITHUB_TOKEN"  # noqa: S105 - the name of an env var, not a token
    api_url: HttpUrl = "https://api.github.com"


class Locks(Model):
    backend: Literal["file", "dynamodb"] = "file"
    table: str = "opsctl-locks"
    ttl: Duration = 7200.0
    region: str | None = None
    endpoint_url: HttpUrl | None = None


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


# A key named like a credential must not carry the credential itself.
_SECRET_KEY = re.compile(r"(token|secret|password|passwd|webhook|api_?key|routing_key|private_key|credential)", re.I)
_URL_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


def reject_inline_secrets(doc: YamlDoc, data: Any = None, loc: tuple[str | int, ...] = ()) -> None:
    """Raise on ``token: abc`` or ``https://user:pass@...``: secrets are named by env var."""
    data = doc.data if data is None and not loc else data
    if isinstance(data, dict):
        for key, value in data.items():
            here = (*loc, key)
            name = str(key)
            if name.endswith("_env"):
                continue  # `headers_env: {X-Auth-Token: HVB_TOKEN}` names env vars: nothing inline
            if (
                isinstance(value, str | int)
                and not isinstance(value, bool)
                and str(value)
                and _SECRET_KEY.search(name)
                and not name.endswith("_env")
            ):
                raise doc.error(
                    here,
                    f"looks like an inline secret; put the value in an environment variable "
                    f"and name it with {name}_env",
                )
            reject_inline_secrets(doc, value, here)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            reject_inline_secrets(doc, value, (*loc, i))
    elif isinstance(data, str) and _URL_PASSWORD.search(data):
        raise doc.error(loc, "URL carries a password; pass credentials through an environment variable")


def find_config(start: Path | None = None, explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config`` / OPSCTL_CONFIG, else opsctl.yaml in the current folder or a parent."""
    given = explicit if explicit is not None else os.environ.get("OPSCTL_CONFIG") or None
    if given is not None:
        origin = "--config" if explicit is not None else "OPSCTL_CONFIG"
        if not os.fspath(given).strip():
            # Path("") is ".", which would read as "is a directory"; say what happened instead.
            raise ConfigError(f"{origin} is empty; give the path of an opsctl.yaml")
        path = Path(given).expanduser()
        if not os.path.lexists(path):
            raise ConfigError(f"{path}: config file not found (from {origin})")
        return path  # a broken symlink or a fifo is reported by the reader, naming the file
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(f"no {CONFIG_NAME} in {here} or its parents; create one (see README) or pass --config PATH")


def load_config(path: Path) -> Config:
    """Read and validate ``path``; every error names the file, the line and the key path."""
    from opsctl.values.redact import secret_env_names

    doc = load_yaml_mapping(path, what="config file")
    reject_inline_secrets(doc)
    try:
        config = Config.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(doc, exc) from None
    config._path = path.resolve()
    config._secret_envs = frozenset(secret_env_names(doc.data))
    return config


def config_schema() -> dict[str, Any]:
    schema = Config.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "opsctl.yaml"
    return schema
