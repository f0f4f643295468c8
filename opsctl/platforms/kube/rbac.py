"""The least-privilege RBAC opsctl needs on a cluster, as YAML to review and ``kubectl apply``.

opsctl never creates RBAC itself: that takes rights far beyond what a deploy
needs. Per namespace, one Role and its RoleBinding to the service account (or
user) opsctl runs as:

- ``deployments`` (apps): get, patch (only the configured Deployments);
- ``replicasets`` (apps): list (follow the new ReplicaSet, revision history);
- ``pods``: list; ``pods/log``: get (diagnose pods that are not ready);
- ``leases`` (coordination.k8s.io), only with ``locks.backend: kubernetes``:
  create, and get/update of opsctl's own Leases.

opsctl creates no Events. Reading a Namespace (cluster-scoped) is optional: it
only tells "namespace missing" from "Deployment missing" in an error message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from opsctl.config import Config, KubernetesPlatformConfig
from opsctl.errors import BadInput
from opsctl.locks.lease import lease_name


@dataclass
class _Namespace:
    deployments: list[str] = field(default_factory=list)
    leases: list[str] = field(default_factory=list)


def rbac_documents(config: Config, envs: list[str] | None = None, subject: str = "opsctl") -> str:
    """Role + RoleBinding per namespace for ``envs`` (default: every Kubernetes environment), as YAML."""
    names = envs or [n for n, e in config.environments.items() if isinstance(e.platform, KubernetesPlatformConfig)]
    spaces: dict[str, _Namespace] = {}
    for name in names:
        platform = config.environment(name).platform
        if not isinstance(platform, KubernetesPlatformConfig):
            raise BadInput(f"environment {name} runs on {platform.kind}, not kubernetes: it needs no RBAC Role")
        spaces.setdefault(platform.namespace, _Namespace()).deployments.append(platform.deployment)
    if not spaces:
        raise BadInput("no environment uses platform kind kubernetes: there is no Role to print")
    if config.locks.backend == "kubernetes" and config.locks.namespace:
        leases = spaces.setdefault(config.locks.namespace, _Namespace()).leases
        leases.extend(lease_name(config.service, name) for name in names)
    documents: list[dict[str, Any]] = []
    for namespace, wants in sorted(spaces.items()):
        documents += _role(namespace, wants, subject)
    header = "# opsctl's least-privilege RBAC; review, then: kubectl apply -f <this file>\n"
    return header + yaml.safe_dump_all(documents, sort_keys=False, default_flow_style=False)


def _role(namespace: str, wants: _Namespace, subject: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    if wants.deployments:
        rules += [
            {
                "apiGroups": ["apps"],
                "resources": ["deployments"],
                "resourceNames": sorted(set(wants.deployments)),
                "verbs": ["get", "patch"],
            },
            {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["list"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
            {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
        ]
    if wants.leases:
        rules += [
            # create cannot be limited to names (the object does not exist yet)
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
            {
                "apiGroups": ["coordination.k8s.io"],
                "resources": ["leases"],
                "resourceNames": sorted(set(wants.leases)),
                "verbs": ["get", "update"],
            },
        ]

    def meta() -> dict[str, Any]:  # one dict per document: a shared one would print as a YAML alias
        return {"name": "opsctl", "namespace": namespace, "labels": {"app.kubernetes.io/managed-by": "opsctl"}}

    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(), "rules": rules}
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": meta(),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "opsctl"},
        "subjects": [{"kind": "ServiceAccount", "name": subject, "namespace": namespace}],
    }
    return [role, binding]
