"""Reaching a Kubernetes API server with the official client: kubeconfig contexts, exec plugins, in-cluster.

The ``kubernetes`` package is an optional extra (``opsctl[kubernetes]``) and
is imported here only, when an environment or the lock store needs it, so
``opsctl --help`` never pays for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsctl.errors import BadInput
from opsctl.files.paths import display_path

EXTRA_HINT = "pip install 'opsctl[kubernetes]'"
IN_CLUSTER_HOST = "KUBERNETES_SERVICE_HOST"  # set by the kubelet in every pod


def kubernetes_module() -> Any:
    """The ``kubernetes`` package, or BadInput naming the extra that installs it."""
    try:
        import kubernetes
    except ImportError:
        raise BadInput(f"the Kubernetes platform needs the kubernetes client: {EXTRA_HINT}") from None
    return kubernetes


@dataclass(frozen=True)
class Connection:
    """An ``ApiClient`` and the names messages use for where it points."""

    api_client: Any
    context: str  # the kubeconfig context, or "in-cluster"
    server: str

    def close(self) -> None:
        self.api_client.close()


def kubeconfig_paths(kubeconfig: str | None, environ: dict[str, str] | None = None) -> str:
    """The kubeconfig file(s) to read, as kubectl picks them: the config key, ``$KUBECONFIG``, ``~/.kube/config``."""
    env = os.environ if environ is None else environ
    if kubeconfig:
        return str(Path(kubeconfig).expanduser())
    return env.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())


def connect(
    kubeconfig: str | None,
    context: str | None,
    *,
    environ: dict[str, str] | None = None,
    section: str = "platform",
) -> Connection:
    """An API client for ``context`` of the kubeconfig (or in-cluster when there is no kubeconfig in a pod).

    A context that does not exist is BadInput listing the ones that do. Exec
    credential plugins (``aws eks get-token``, ``gke-gcloud-auth-plugin``) run
    as kubectl runs them; their tokens are refreshed by the client. ``section``
    names the opsctl.yaml block messages point at (``platform``, ``locks``).
    """
    kubernetes = kubernetes_module()
    from kubernetes.config.config_exception import ConfigException

    env = dict(os.environ if environ is None else environ)
    configuration = kubernetes.client.Configuration()
    paths = kubeconfig_paths(kubeconfig, env)
    exists = any(Path(p).is_file() for p in paths.split(os.pathsep) if p)
    try:
        if not exists and kubeconfig is None and context is None and env.get(IN_CLUSTER_HOST):
            kubernetes.config.load_incluster_config(client_configuration=configuration)
            name = "in-cluster"
        else:
            if not exists:
                where = display_path(Path(paths))
                raise BadInput(f"kubeconfig {where} does not exist: set {section}.kubeconfig or KUBECONFIG")
            contexts, active = kubernetes.config.list_kube_config_contexts(config_file=paths)
            known = [str(c.get("name")) for c in contexts or []]
            if context is not None and context not in known:
                listed = ", ".join(known) or "none"
                raise BadInput(f"kubeconfig context '{context}' does not exist in {paths} (contexts: {listed})")
            if context is None and not active:
                raise BadInput(f"{paths} has no current context: set {section}.context (contexts: {', '.join(known)})")
            kubernetes.config.load_kube_config(
                config_file=paths, context=context, client_configuration=configuration, persist_config=False
            )
            name = context or str(active.get("name"))
    except ConfigException as exc:
        detail = " ".join(str(exc).split())
        raise BadInput(f"cannot use kubeconfig {paths}: {detail}") from None
    # One quick retry of a dropped connection; opsctl decides about the rest itself (see errors.py).
    configuration.retries = 1
    api_client = kubernetes.client.ApiClient(configuration)
    api_client.user_agent = "opsctl"
    from opsctl.platforms.kube.bounded import install

    install(api_client.rest_client.pool_manager)  # every read ends by the call's deadline, and is capped
    return Connection(api_client, name, str(configuration.host))
