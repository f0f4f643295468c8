"""Resolve an image reference in whatever registry holds it: ECR through boto3, any other over the OCI API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from opsctl.config.verify import RegistryAccess
from opsctl.registry.ecr import EcrRegistry, ecr_repository
from opsctl.registry.hosts import endpoint
from opsctl.registry.model import Resolved
from opsctl.values.imageref import ImageRef
from opsctl.values.redact import Redactor


@dataclass(frozen=True)
class AwsAccess:
    """How to reach AWS for ECR: the environment's profile and endpoint (tests, sandbox), if any."""

    profile: str | None = None
    endpoint_url: str | None = None


def resolve(
    ref: ImageRef,
    registries: Mapping[str, RegistryAccess],
    *,
    aws: AwsAccess | None = None,
    environ: Mapping[str, str] | None = None,
    redactor: Redactor | None = None,
) -> Resolved:
    """The digest ``ref`` names now, or RegistryProblem (exit 1) / RegistryUnavailable (exit 5) in one line."""
    repo = ecr_repository(ref)
    if repo is not None:
        aws = aws or AwsAccess()
        return EcrRegistry.for_repository(repo, profile=aws.profile, endpoint_url=aws.endpoint_url).resolve(ref, repo)
    from opsctl.registry.oci import OciRegistry

    with OciRegistry(endpoint(ref, registries), environ=environ, redactor=redactor) as registry:
        return registry.resolve(ref)
