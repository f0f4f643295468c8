"""platform: {kind: kubernetes}: one Deployment of one namespace, reached through a kubeconfig context."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from opsctl.config.base import Duration, Model

# What a Kubernetes object name may be (RFC 1123 label / DNS subdomain): checked here so a typo is a
# config error with its file:line, not a 404 from the API server.
_K8S_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
MAX_POLL_INTERVAL = 5.0  # a rollout is re-read at least this often, whatever the config says


class KubernetesPlatformConfig(Model):
    kind: Literal["kubernetes"]
    context: str | None = Field(None, description="kubeconfig context (default: the current context)")
    kubeconfig: str | None = Field(
        None, description="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config; inside a pod: in-cluster)"
    )
    namespace: str = Field("default", pattern=_K8S_NAME, max_length=63)
    deployment: str = Field(pattern=_K8S_NAME, max_length=253)
    container: str = Field(description="the container whose image is replaced", pattern=_K8S_NAME, max_length=63)
    poll_interval: Duration = Field(2.0, description="delay between rollout polls; at most 5s")
    stall_timeout: Duration = Field(
        180.0, description="fail a rollout that makes no progress this long (always before --timeout runs out)"
    )
    request_timeout: Duration = Field(15.0, description="timeout of each Kubernetes API request")

    @field_validator("poll_interval")
    @classmethod
    def _bounded_poll(cls, value: float) -> float:
        if value > MAX_POLL_INTERVAL:
            raise ValueError(f"must be at most {MAX_POLL_INTERVAL:g}s: a rollout is followed at least that often")
        return value
