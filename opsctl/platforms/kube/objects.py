"""Reading Deployments and ReplicaSets as the API reference defines them: pure functions on JSON.

:func:`rollout_verdict` decides a rollout exactly as ``kubectl rollout status``
does (kubectl's ``DeploymentStatusViewer``): generation observed, updated,
old replicas gone, updated replicas available; ``ProgressDeadlineExceeded``
is a failure at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opsctl.errors import BadInput

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
TEMPLATE_HASH = "pod-template-hash"
DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"


def _get(obj: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)  # type: ignore[assignment]
    return obj


def container_names(obj: dict[str, Any]) -> list[str]:
    """The containers of a Deployment's or ReplicaSet's pod template, in order."""
    return [str(c.get("name")) for c in _get(obj, "spec", "template", "spec", "containers") or []]


def container_image(obj: dict[str, Any], container: str, what: str) -> str:
    """``container``'s image in ``obj``'s pod template; BadInput listing the containers when it has none such."""
    for c in _get(obj, "spec", "template", "spec", "containers") or []:
        if c.get("name") == container:
            return str(c.get("image") or "")
    names = ", ".join(container_names(obj)) or "none"
    raise BadInput(f"container '{container}' is not in the pod template of {what} (containers: {names})")


def image_patch(container: str, image: str, cause: str) -> dict[str, Any]:
    """The strategic merge patch of a deploy: ``container``'s image and the change-cause, nothing else.

    Containers merge by name (their patch merge key), so every other
    container, env var, resource and probe stays as it is.
    """
    return {
        "metadata": {"annotations": {CHANGE_CAUSE: cause}},
        "spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}},
    }


def revision(obj: dict[str, Any]) -> int:
    """The ``deployment.kubernetes.io/revision`` annotation as a number (0 when absent)."""
    try:
        return int(str((_get(obj, "metadata", "annotations") or {}).get(REVISION, "0")))
    except ValueError:
        return 0


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for found in _get(obj, "status", "conditions") or []:
        if found.get("type") == kind:
            return dict(found)
    return None


@dataclass(frozen=True)
class Verdict:
    """One look at a rollout: ``done``, ``failed`` (deadline exceeded) or neither (waiting, ``message`` says why)."""

    done: bool
    failed: bool
    message: str


def rollout_verdict(deployment: dict[str, Any]) -> Verdict:
    """``kubectl rollout status``'s decision for this Deployment object."""
    name = _get(deployment, "metadata", "name")
    generation = int(_get(deployment, "metadata", "generation") or 0)
    status = deployment.get("status") or {}
    if generation > int(status.get("observedGeneration") or 0):
        return Verdict(False, False, "waiting for the deployment spec update to be observed")
    progressing = condition(deployment, "Progressing")
    if progressing is not None and progressing.get("reason") == DEADLINE_EXCEEDED:
        why = progressing.get("message") or f"deployment {name} exceeded its progress deadline"
        return Verdict(False, True, f"{DEADLINE_EXCEEDED}: {why}")
    spec_replicas = _get(deployment, "spec", "replicas")
    wanted = 1 if spec_replicas is None else int(spec_replicas)
    updated = int(status.get("updatedReplicas") or 0)
    replicas = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    if updated < wanted:
        return Verdict(False, False, f"{updated} of {wanted} new replicas updated")
    if replicas > updated:
        return Verdict(False, False, f"{replicas - updated} old replicas pending termination")
    if available < updated:
        return Verdict(False, False, f"{available} of {updated} updated replicas available")
    return Verdict(True, False, f"deployment {name} successfully rolled out ({available} available)")


def progress_key(deployment: dict[str, Any]) -> tuple[int, ...]:
    """What changes while a rollout moves on; the same key poll after poll is a stall."""
    status = deployment.get("status") or {}
    return tuple(
        int(status.get(k) or 0)
        for k in ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
    )


def selector_of(obj: dict[str, Any]) -> str:
    """``spec.selector.matchLabels`` as a label selector (``app=hvb,tier=web``)."""
    labels = _get(obj, "spec", "selector", "matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def owned_by(obj: dict[str, Any], owner: dict[str, Any]) -> bool:
    uid = _get(owner, "metadata", "uid")
    refs = _get(obj, "metadata", "ownerReferences") or []
    return any(ref.get("uid") == uid for ref in refs) if uid else True


def replica_sets_of(deployment: dict[str, Any], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Deployment's own ReplicaSets, newest revision first."""
    own = [rs for rs in found if owned_by(rs, deployment)]
    return sorted(own, key=revision, reverse=True)


def our_replica_set(
    deployment: dict[str, Any], found: list[dict[str, Any]], container: str, image: str
) -> dict[str, Any] | None:
    """The ReplicaSet of our change: the Deployment's current revision, if its template runs ``image``."""
    wanted = revision(deployment)
    for rs in replica_sets_of(deployment, found):
        images = {
            str(c.get("name")): str(c.get("image")) for c in _get(rs, "spec", "template", "spec", "containers") or []
        }
        if images.get(container) == image and (not wanted or revision(rs) == wanted):
            return rs
    return None


def template_hash(rs: dict[str, Any]) -> str | None:
    labels = _get(rs, "metadata", "labels") or {}
    value = labels.get(TEMPLATE_HASH)
    return str(value) if value else None


def replicas_line(deployment: dict[str, Any]) -> str:
    """``3 desired, 2 updated, 2 available``."""
    status = deployment.get("status") or {}
    spec_replicas = _get(deployment, "spec", "replicas")
    desired = 1 if spec_replicas is None else int(spec_replicas)
    return (
        f"{desired} desired, {int(status.get('updatedReplicas') or 0)} updated, "
        f"{int(status.get('availableReplicas') or 0)} available"
    )
