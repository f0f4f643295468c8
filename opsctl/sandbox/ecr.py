"""ECR for the sandbox: the demo's images pushed into moto, so ``verify`` resolves and pins them for real.

Each image is a Docker image manifest (schema 2) the way ``docker push``
leaves one: a config blob (os, architecture, the version label, the rootfs
diff ids) and one layer, each named by its SHA-256 and size. The image's
digest is the SHA-256 of the manifest's bytes, as in any registry, and is
given to ``PutImage`` so that ``DescribeImages`` answers with it. No blob is
uploaded: pre-flight verification reads manifests, never layers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from opsctl.sandbox.aws import REGION, sandbox_client

ACCOUNT = "123456789012"  # moto's default account id
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_CONFIG = "application/vnd.docker.container.image.v1+json"
_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


@dataclass(frozen=True)
class PushedImage:
    """One image in the sandbox's ECR: its reference by tag and the digest that tag names."""

    repository: str
    tag: str
    digest: str

    @property
    def ref(self) -> str:
        """``HOST/repository:tag``: what a person types."""
        return f"{HOST}/{self.repository}:{self.tag}"

    @property
    def pinned(self) -> str:
        """``HOST/repository:tag@sha256:...``: what a verified deploy puts in the task definition."""
        return f"{self.ref}@{self.digest}"


def image_ref(repository: str, tag: str) -> str:
    """``HOST/repository:tag`` in the sandbox's registry (whether or not it was pushed)."""
    return f"{HOST}/{repository}:{tag}"


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest(repository: str, tag: str) -> bytes:
    """The image manifest of ``repository:tag``: deterministic, and different for every tag."""
    layer = f"{repository}:{tag} application files\n".encode()  # stands for the layer's gzipped tar
    layer_digest = _sha256(layer)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
                "Cmd": ["python", "-m", "hvb"],
                "Labels": {"org.opencontainers.image.version": tag},
            },
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    body = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": _CONFIG, "size": len(config), "digest": _sha256(config)},
        "layers": [{"mediaType": _LAYER, "size": len(layer), "digest": layer_digest}],
    }
    return json.dumps(body, indent=3).encode()  # docker's own indentation


def push_images(endpoint_url: str, repository: str, tags: Iterable[str]) -> dict[str, PushedImage]:
    """Create ``repository`` in the sandbox's ECR and put one image per tag; the images by tag."""
    client = sandbox_client("ecr", endpoint_url)
    pushed: dict[str, PushedImage] = {}
    try:
        with contextlib.suppress(client.exceptions.RepositoryAlreadyExistsException):
            client.create_repository(repositoryName=repository)
        for tag in tags:
            body = manifest(repository, tag)
            answer = client.put_image(
                repositoryName=repository,
                imageManifest=body.decode(),
                imageManifestMediaType=DOCKER_MANIFEST,
                imageTag=tag,
                imageDigest=_sha256(body),
            )
            pushed[tag] = PushedImage(repository, tag, str(answer["image"]["imageId"]["imageDigest"]))
    finally:
        client.close()
    return pushed
