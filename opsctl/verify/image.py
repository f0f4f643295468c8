"""The image check: the image exists in its registry, and its tag names a digest (which the deploy then pins)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from opsctl.config.verify import RegistryAccess
from opsctl.errors import Unavailable
from opsctl.registry.hosts import DOCKER_HUB_NAMES
from opsctl.registry.model import RegistryProblem, Resolved
from opsctl.registry.resolve import AwsAccess, resolve
from opsctl.values.imageref import ImageRef
from opsctl.values.redact import Redactor
from opsctl.verify.result import Check, Verdict


@dataclass(frozen=True)
class Reach:
    """How verification reaches the outside: registries, AWS (profile, endpoint), env vars, the redactor."""

    registries: Mapping[str, RegistryAccess] = field(default_factory=dict)
    aws: AwsAccess = field(default_factory=AwsAccess)
    region: str | None = None
    environ: Mapping[str, str] | None = None
    redactor: Redactor = field(default_factory=Redactor)


def check_image(image: ImageRef, reach: Reach) -> tuple[Check, Resolved | None]:
    """One line for the image, and what it resolved to (None when it did not).

    A reference without a registry host (``hvb:1.8.0``) means Docker Hub's
    ``library/`` namespace, which is rarely what a team's shorthand means: it
    is checked there only when ``registries:`` lists ``docker.io``; otherwise
    the line says it was not checked and how to have it checked.
    """
    name = str(image)
    if image.registry is None and not any(host in reach.registries for host in DOCKER_HUB_NAMES):
        why = (
            f"{image} names no registry: not checked (and not pinned); write the registry "
            f"(ghcr.io/..., docker.io/...) or list docker.io under registries: to check Docker Hub"
        )
        return Check("image", name, Verdict.NOT_CHECKED, why), None
    try:
        resolved = resolve(image, reach.registries, aws=reach.aws, environ=reach.environ, redactor=reach.redactor)
    except RegistryProblem as exc:
        return Check("image", name, Verdict.FAILED, reach.redactor.text(str(exc))), None
    except Unavailable as exc:
        return Check("image", name, Verdict.UNAVAILABLE, reach.redactor.text(str(exc))), None
    detail: dict[str, object] = {
        "digest": resolved.digest,
        "media_type": resolved.media_type,
        "pinned": str(resolved.pinned),
    }
    if resolved.platforms:
        detail["platforms"] = list(resolved.platforms)
    return Check("image", name, Verdict.PASSED, f"{resolved.describe()} in {resolved.registry}", detail), resolved
