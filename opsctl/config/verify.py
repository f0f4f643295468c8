"""registries, scan and environments.NAME.verify: how `opsctl verify` reaches registries and what it checks."""

from __future__ import annotations

from pydantic import Field, model_validator

from opsctl.config.base import Duration, EnvVarName, Model


class RegistryAccess(Model):
    """``registries: {HOST: {...}}``: credentials (named by env var) and transport for one registry host."""

    username_env: EnvVarName | None = Field(None, description="env var holding the registry user name")
    password_env: EnvVarName | None = Field(None, description="env var holding the registry password or token")
    insecure: bool = Field(False, description="reach the registry over plain HTTP (as Docker's insecure-registries)")

    @model_validator(mode="after")
    def _paired(self) -> RegistryAccess:
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("give both username_env and password_env, or neither")
        return self


class VerifyFamilies(Model):
    """``verify:`` per environment: which pre-flight families run (all by default).

    ``image: false`` also turns digest pinning off: the deploy then sends the tag as given.
    """

    image: bool = True
    roles: bool = True
    secrets: bool = True
    logs: bool = True


class ScanLimits(Model):
    """``scan:``: the most findings of each severity an image may have, and where its report comes from.

    ECR images are judged by their ECR scan findings; any other image by
    ``report`` (a Trivy JSON or SARIF file) or the output of ``command``
    (an argv; ``{image}`` in it becomes the image reference).
    """

    max_critical: int | None = Field(0, ge=0, description="most CRITICAL findings allowed (null: no limit)")
    max_high: int | None = Field(None, ge=0, description="most HIGH findings allowed (null: no limit)")
    max_medium: int | None = Field(None, ge=0, description="most MEDIUM findings allowed (null: no limit)")
    report: str | None = Field(None, description="Trivy JSON or SARIF report file, relative to opsctl.yaml")
    command: list[str] | None = Field(
        None, min_length=1, description="argv printing a Trivy JSON or SARIF report; {image} is replaced"
    )
    timeout: Duration = Field(300.0, description="how long command may run")

    @model_validator(mode="after")
    def _one_source(self) -> ScanLimits:
        if self.report is not None and self.command is not None:
            raise ValueError("give report or command, not both")
        return self
