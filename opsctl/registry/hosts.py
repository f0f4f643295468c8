"""Where a reference's registry is: the API base URL, the repository path, and the config key of its host.

As Docker does, a reference without a registry means Docker Hub
(``hvb:1`` is ``docker.io/library/hvb:1``), and a registry on 127.0.0.0/8,
``localhost`` or ``::1``, or marked ``insecure: true``, is reached over
plain HTTP; every other registry over HTTPS.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from opsctl.config.verify import RegistryAccess
from opsctl.values.imageref import ImageRef

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_NAMES = (DOCKER_HUB, "index.docker.io", DOCKER_HUB_API)
_HUB_ALIASES = frozenset(DOCKER_HUB_NAMES)


@dataclass(frozen=True)
class Endpoint:
    """One repository of one registry, as the distribution API addresses it."""

    host: str  # the name people and ``registries:`` use: ``docker.io``, ``ghcr.io``, ``127.0.0.1:5000``
    base_url: str  # ``https://registry-1.docker.io``
    repository: str  # ``library/hvb``
    access: RegistryAccess

    @property
    def plain_http(self) -> bool:
        return self.base_url.startswith("http://")


def is_loopback(host: str) -> bool:
    """``127.0.0.1:5000``, ``localhost``, ``[::1]:5000``: a registry on this machine."""
    name = host
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def endpoint(ref: ImageRef, registries: Mapping[str, RegistryAccess]) -> Endpoint:
    """The endpoint of ``ref``'s repository; ``registries`` gives credentials and ``insecure`` per host."""
    host = ref.registry or DOCKER_HUB
    repository = ref.repository
    if host in _HUB_ALIASES:
        host = DOCKER_HUB
        api_host = DOCKER_HUB_API
        if "/" not in repository:
            repository = f"library/{repository}"  # official images live under library/
    else:
        api_host = host
    access = registries.get(host) or (registries.get(DOCKER_HUB_API) if host == DOCKER_HUB else None)
    access = access or RegistryAccess()
    scheme = "http" if access.insecure or is_loopback(host) else "https"
    return Endpoint(host, f"{scheme}://{api_host}", repository, access)
