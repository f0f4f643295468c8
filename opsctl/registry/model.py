"""What a registry lookup answers (:class:`Resolved`) and how it fails, in one line each."""

from __future__ import annotations

from dataclasses import dataclass

from opsctl.errors import RunFailed, Unavailable
from opsctl.values.imageref import ImageRef

# Manifest media types opsctl accepts, most specific first (the Accept header lists them all).
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_TYPES = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})


@dataclass(frozen=True)
class Resolved:
    """An image that exists: the reference asked for, the digest it names now, and what kind of manifest.

    ``platforms`` lists ``os/arch`` of a manifest list / OCI index (a multi-arch
    image); the digest is then the list's own, which every platform pulls from.
    """

    ref: ImageRef
    digest: str
    media_type: str
    registry: str  # the host as shown to people: ``ghcr.io``, ``docker.io``, ``123456789012.dkr.ecr...``
    platforms: tuple[str, ...] = ()

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def pinned(self) -> ImageRef:
        """``name:tag@digest``: the tag stays readable, the digest decides what runs."""
        return ImageRef(self.ref.registry, self.ref.repository, self.ref.tag, self.digest)

    def describe(self) -> str:
        kind = f"multi-arch index ({', '.join(self.platforms) or 'no platforms listed'})" if self.is_index else ""
        return f"{self.ref} -> {self.digest}" + (f", {kind}" if kind else "")


class RegistryProblem(RunFailed):
    """The image or access to it is wrong (missing tag, refused credentials): a failed check, exit 1."""


class ImageNotFound(RegistryProblem):
    """The repository or the tag does not exist."""


class RegistryDenied(RegistryProblem):
    """The registry wants credentials, or refused the ones given."""


class RegistryUnavailable(Unavailable):
    """The registry (or ECR) could not be reached or kept failing: exit 5, nothing was changed."""
