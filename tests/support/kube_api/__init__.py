"""A loopback stand-in Kubernetes API server for tests and ``opsctl demo --platform kubernetes``.

No API server can be installed on these machines, so the driver is tested
through the unmodified official client against this server, reached through a
real kubeconfig file that :meth:`KubeApiServer.kubeconfig` writes. See
:mod:`tests.support.kube_api.server` (paths, errors) and
:mod:`tests.support.kube_api.cluster` (the controller that moves rollouts).

Fixtures (import them explicitly; there is no shared conftest)::

    from tests.support.kube_api import KubeApiServer, kube_api_fixture

    def test_deploy(kube_api: KubeApiServer, tmp_path: Path) -> None:
        config = kube_api.kubeconfig(tmp_path / "kubeconfig")
        ...

``kube_api`` yields a started server with namespace ``hvb`` and Deployment
``hotel-voice-bot`` (containers ``bot`` on :data:`OLD` and ``sidecar``), two
replicas, its first rollout complete.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kube_api.cluster import Cluster
from tests.support.kube_api.server import TOKEN, KubeApiServer

OLD = "ghcr.io/hvb/bot:1.7.0"
SIDECAR = "envoyproxy/envoy:v1.31.0"
NAMESPACE = "hvb"
DEPLOYMENT = "hotel-voice-bot"

__all__ = [
    "DEPLOYMENT",
    "NAMESPACE",
    "OLD",
    "SIDECAR",
    "TOKEN",
    "KubeApiServer",
    "kube_api_fixture",
    "kubeconfig_fixture",
    "standin",
]


def standin(*, ready_delay: float = 0.3, replicas: int = 2, progress_deadline: int = 600) -> KubeApiServer:
    """A started stand-in with the Hotel Voice Bot's Deployment (call ``stop()`` when done)."""
    server = KubeApiServer(cluster=Cluster(ready_delay=ready_delay)).start()
    containers = [
        {
            "name": "bot",
            "image": OLD,
            "env": [{"name": "LOG_LEVEL", "value": "info"}],
            "resources": {"limits": {"memory": "512Mi", "cpu": "500m"}},
        },
        {"name": "sidecar", "image": SIDECAR, "resources": {"limits": {"memory": "128Mi"}}},
    ]
    server.cluster.add_deployment(
        NAMESPACE, DEPLOYMENT, containers, replicas=replicas, progress_deadline=progress_deadline
    )
    return server


@pytest.fixture(name="kube_api")
def kube_api_fixture() -> Iterator[KubeApiServer]:
    server = standin()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="kubeconfig")
def kubeconfig_fixture(kube_api: KubeApiServer, tmp_path: Path) -> Path:
    """A kubeconfig file in ``tmp_path`` that reaches ``kube_api`` (context ``hvb-staging``)."""
    return kube_api.kubeconfig(tmp_path / "kubeconfig")
