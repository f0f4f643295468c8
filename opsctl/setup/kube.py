"""Discover a Kubernetes Deployment: its containers, image and readiness probe path.

Reads one Deployment through the Kubernetes driver's own client loading
(:func:`opsctl.platforms.kube.client.connect`: kubeconfig contexts, exec
plugins); where the bot answers from outside is left for the user to say.
"""

from __future__ import annotations

from typing import Any

from opsctl.errors import BadInput
from opsctl.setup.model import Discovered
from opsctl.setup.targets import Target


def discover_kube(target: Target, *, kubeconfig: str | None = None) -> Discovered:
    """What the Deployment ``target`` (CONTEXT/NAMESPACE/DEPLOYMENT) runs; BadInput when it does not exist."""
    from opsctl.platforms.kube.api import KubeApi, KubeError
    from opsctl.platforms.kube.client import connect

    context, namespace, name = target.parts
    connection = connect(kubeconfig, context)
    try:
        deployment = KubeApi(connection).deployment(namespace, name)
    except KubeError as exc:
        if exc.status == 404:
            raise BadInput(f"Deployment {name} not found in namespace {namespace} (context {context})") from None
        raise BadInput(f"reading Deployment {namespace}/{name} (context {context}): {exc}") from None
    finally:
        connection.close()
    return _discovered(target, deployment, kubeconfig)


def _discovered(target: Target, deployment: dict[str, Any], kubeconfig: str | None) -> Discovered:
    context, namespace, name = target.parts
    pod = deployment.get("spec", {}).get("template", {}).get("spec", {})
    containers = [c for c in pod.get("containers", []) if isinstance(c, dict)]
    names = [str(c.get("name")) for c in containers if c.get("name")]
    if not names:
        raise BadInput(f"Deployment {namespace}/{name} has no containers")
    container = name if name in names else names[0]
    why = "the only one" if len(names) == 1 else ("named like the Deployment" if container == name else "the first")
    platform: dict[str, Any] = {"kind": "kubernetes", "context": context}
    if kubeconfig:
        platform["kubeconfig"] = kubeconfig
    platform.update(namespace=namespace, deployment=name, container=container)
    chosen = next(c for c in containers if c.get("name") == container)
    probe = (chosen.get("readinessProbe") or chosen.get("livenessProbe") or {}).get("httpGet") or {}
    path = probe.get("path")
    notes = [
        f"Deployment {namespace}/{name} (context {context}) has: {', '.join(names)}",
        f"container: {container} ({why})",
    ]
    if path:
        notes.append(f"its probe reads {path}")
    suggestions = (
        "where the bot answers from outside the cluster (the Ingress or load balancer host):",
        "health: {base_url: https://bot.example.com"
        + (f", paths: {{health: {path}}}" if path and path != "/health" else "")
        + "}",
    )
    return Discovered(
        kind="kubernetes",
        target=target.text,
        service=name,
        name_hint=f"{context} {namespace} {name}",
        platform=platform,
        health=None,
        image=str(chosen.get("image")) if chosen.get("image") else None,
        notes=tuple(notes),
        suggestions=suggestions,
    )
