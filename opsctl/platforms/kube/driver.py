"""The Kubernetes driver: one container of one Deployment, deployed by patching its image.

A deploy sends a strategic merge patch of only the configured container's
image (and the ``kubernetes.io/change-cause`` annotation naming the run), then
follows the rollout as ``kubectl rollout status`` decides it, diagnosing the
new pods. A rollback patches the image back to the release the caller chose
(the last *verified* one from the audit log), never "the previous ReplicaSet".
The plan asks the API server for a server-side dry run (``dryRun=All``), so
admission webhooks and quotas judge the change before anything is stored.

A release's id is its image: ReplicaSet revision numbers move when an old
template comes back, so they name no release for long (they are kept in
``detail['revision']``).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from typing import Any

import yaml

from opsctl.config import KubernetesPlatformConfig
from opsctl.errors import BadInput
from opsctl.platforms.base import (
    DeployPlan,
    Platform,
    Release,
    RolloutOptions,
    RolloutResult,
    RolloutStatus,
    checked_image,
    pullable,
    release_by_image,
)
from opsctl.platforms.kube.api import KubeApi, KubeError
from opsctl.platforms.kube.client import connect
from opsctl.platforms.kube.follow import Follower
from opsctl.platforms.kube.objects import (
    CHANGE_CAUSE,
    condition,
    container_image,
    image_patch,
    replica_sets_of,
    replicas_line,
    revision,
    selector_of,
)
from opsctl.values.imageref import ImageRef
from opsctl.values.redact import Redactor

_REVISION_REF = re.compile(r"^(?:revision[ :]?|r)?(\d+)$")


class KubernetesPlatform(Platform):
    """One Deployment; ``api`` is a :class:`KubeApi` (tests hand one pointed at a stand-in API server)."""

    kind = "kubernetes"

    def __init__(self, config: KubernetesPlatformConfig, api: KubeApi, *, redactor: Redactor | None = None) -> None:
        self.config = config
        self.api = api
        self.redactor = redactor or Redactor()

    @classmethod
    def from_config(cls, config: KubernetesPlatformConfig, *, redactor: Redactor | None = None) -> KubernetesPlatform:
        """The driver for ``platform: {kind: kubernetes}``: kubeconfig context (or in-cluster) read now."""
        connection = connect(config.kubeconfig, config.context)
        return cls(config, KubeApi(connection, timeout=config.request_timeout), redactor=redactor)

    @property
    def what(self) -> str:
        return f"deployment {self.config.namespace}/{self.config.deployment}"

    def describe(self) -> str:
        return f"kubernetes {self.what} (context {self.api.connection.context})"

    # -- reads ---------------------------------------------------------------------------

    def deployment(self) -> dict[str, Any]:
        """The Deployment; BadInput naming what is missing (the namespace or the Deployment)."""
        namespace = self.config.namespace
        try:
            return self.api.deployment(namespace, self.config.deployment)
        except KubeError as exc:
            if exc.status != 404:
                raise BadInput(f"cannot read {self.what}: {self.redactor.text(exc.message)}") from None
        exists = self.api.namespace_exists(namespace)
        context = self.api.connection.context
        if exists is False:
            raise BadInput(f"namespace {namespace} does not exist in context {context}")
        raise BadInput(
            f"deployment {self.config.deployment} does not exist in namespace {namespace} (context {context})"
        )

    def release_of(self, deployment: dict[str, Any]) -> Release:
        image = container_image(deployment, self.config.container, self.what)
        detail = {"revision": revision(deployment), "replicas": replicas_line(deployment)}
        return Release(id=image, image=image, detail=detail)

    def current_release(self) -> Release:
        return self.release_of(self.deployment())

    def replica_sets(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        """The Deployment's ReplicaSets, newest revision first."""
        found = self.api.replica_sets(self.config.namespace, selector_of(deployment))
        return replica_sets_of(deployment, found)

    def releases(self, limit: int = 20) -> list[Release]:
        """What runs now, then the ReplicaSet revision history (``deployment.kubernetes.io/revision``), newest first."""
        deployment = self.deployment()
        current = self.release_of(deployment)
        found: dict[str, Release] = {current.image: current}
        for rs in self.replica_sets(deployment):
            try:
                image = container_image(rs, self.config.container, "a ReplicaSet")
            except BadInput:
                continue  # a revision from before the container existed: no release of it
            meta = rs.get("metadata") or {}
            if image not in found:
                detail = {
                    "revision": revision(rs),
                    "replica_set": meta.get("name"),
                    "change_cause": (meta.get("annotations") or {}).get(CHANGE_CAUSE),
                }
                found[image] = Release(id=image, image=image, detail=detail)
        return list(found.values())[: max(1, limit)]

    def find_release(self, ref: str) -> Release | None:
        """By image (``hvb:1.7.0``, ``registry/hvb:1.7.0`` or a bare tag) or ReplicaSet revision (``revision 3``)."""
        number = _REVISION_REF.match(ref.strip())
        return release_by_image(
            self.releases(limit=100),
            ref,
            lambda r: number is not None and r.detail.get("revision") == int(number.group(1)),
        )

    def can_deploy(self, release: Release) -> tuple[bool, str]:
        """Any well-formed image reference: the kubelet pulls images by reference."""
        return pullable(release, "Kubernetes")

    def plan(self, image: ImageRef | str) -> DeployPlan:
        """The pod template diff, as the API server itself would store it (server-side dry run, ``dryRun=All``)."""
        image = str(checked_image(image))
        deployment = self.deployment()
        current = self.release_of(deployment)
        if current.image == image:
            summary = f"{self.what} already runs {image} in container {self.config.container}; nothing to change"
            return DeployPlan(current=current, image=image, summary=summary)
        dry = self._patch(image, "opsctl plan (dry run)", dry_run=True)
        diff = _template_diff(deployment, dry, self.what)
        summary = (
            f"{self.what}: container {self.config.container} {current.image} -> {image} "
            "(the API server accepted it in a server-side dry run)"
        )
        return DeployPlan(current=current, image=image, summary=summary, diff=diff, detail={"dry_run": "All"})

    def warnings(self) -> list[str]:
        """Pods on mixed images, replicas not available, conditions that are not True."""
        deployment = self.deployment()
        found: list[str] = []
        images = self.pod_images(deployment)
        if len(images) > 1:
            listed = ", ".join(f"{n} on {image}" for image, n in _by_count(images))
            found.append(f"pods run mixed images: {listed} (a rollout is in progress or stuck)")
        line = replicas_line(deployment)
        status = deployment.get("status") or {}
        wanted = (deployment.get("spec") or {}).get("replicas", 1)
        if int(status.get("availableReplicas") or 0) < int(wanted if wanted is not None else 1):
            found.append(f"replicas: {line}")
        found.extend(
            f"condition {cond.get('type')} is {cond.get('status')}: {cond.get('reason')}"
            for cond in status.get("conditions") or []
            if cond.get("status") != "True"
        )
        progressing = condition(deployment, "Progressing")
        if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
            found.append(f"the last rollout exceeded its progress deadline: {progressing.get('message')}")
        return [self.redactor.text(w) for w in found]

    def rollout_facts(self) -> dict[str, Any] | None:
        """Replicas, pod images (mixed flagged) and the Deployment's conditions, for ``opsctl status``."""
        facts = self.facts()
        return {key: facts[key] for key in ("replicas", "pods", "mixed_images", "conditions")}

    def facts(self) -> dict[str, Any]:
        """``opsctl platform status``: replicas, images the pods run (mixed flagged), conditions, revisions."""
        deployment = self.deployment()
        status = deployment.get("status") or {}
        desired = (deployment.get("spec") or {}).get("replicas", 1)
        images = self.pod_images(deployment)
        history = [
            {
                "revision": revision(rs),
                "image": _image_or_none(rs, self.config.container),
                "change_cause": ((rs.get("metadata") or {}).get("annotations") or {}).get(CHANGE_CAUSE),
                "replicas": int((rs.get("status") or {}).get("replicas") or 0),
            }
            for rs in self.replica_sets(deployment)
        ]
        facts = {
            "target": self.describe(),
            "image": self.release_of(deployment).image,
            "revision": revision(deployment),
            "replicas": {
                "desired": int(desired if desired is not None else 1),
                "updated": int(status.get("updatedReplicas") or 0),
                "ready": int(status.get("readyReplicas") or 0),
                "available": int(status.get("availableReplicas") or 0),
            },
            "pods": dict(_by_count(images)),
            "mixed_images": len(images) > 1,
            "conditions": [
                {k: c.get(k) for k in ("type", "status", "reason", "message")} for c in status.get("conditions") or []
            ],
            "revisions": history,
        }
        return dict(self.redactor.value(facts))

    def pod_images(self, deployment: dict[str, Any]) -> Counter[str]:
        """How many pods of the Deployment run each image of the configured container."""
        pods = self.api.pods(self.config.namespace, selector_of(deployment))
        counts: Counter[str] = Counter()
        for pod in pods:
            for c in (pod.get("spec") or {}).get("containers") or []:
                if c.get("name") == self.config.container:
                    counts[str(c.get("image"))] += 1
        return counts

    # -- changes -------------------------------------------------------------------------

    def deploy(self, image: ImageRef | str, options: RolloutOptions) -> RolloutResult:
        """Patch the container's image (unless an earlier try of the run already did) and follow the rollout."""
        image = str(checked_image(image))
        return self._roll(image, options, f"opsctl run {options.run_id or '?'}: deploy {image}")

    def rollback(self, to: Release, options: RolloutOptions) -> RolloutResult:
        """Patch the image back to ``to.image`` (the caller's verified choice) and follow the rollout."""
        ok, reason = self.can_deploy(to)
        if not ok:
            raise BadInput(f"cannot roll back to {to.id}: {reason}")
        result = self._roll(to.image, options, f"opsctl run {options.run_id or '?'}: rollback to {to.image}")
        return RolloutResult(result.status, result.release, result.message, {**result.detail, "rollback_to": to.id})

    def _roll(self, image: str, options: RolloutOptions, cause: str) -> RolloutResult:
        deployment = self.deployment()
        current = self.release_of(deployment)
        if current.image != image:
            if options.cancel.is_set():
                return RolloutResult(RolloutStatus.INTERRUPTED, current, "cancelled before the image was patched")
            options.fence()  # still the lock's holder? nothing is changed by a run that lost it
            self._patch(image, cause, dry_run=False)
            options.on_event(self.redactor.text(f"{self.what}: container {self.config.container} -> {image}"))
        else:
            # A resumed run (or a repeated deploy): the template already names the image; follow it.
            options.on_event(self.redactor.text(f"{self.what} already names {image}: following its rollout"))
        follower = Follower(self.api, self.config, options, self.redactor, self.release_of)
        return follower.follow(image)

    def _patch(self, image: str, cause: str, *, dry_run: bool) -> dict[str, Any]:
        body = image_patch(self.config.container, image, cause)
        try:
            return self.api.patch_deployment(self.config.namespace, self.config.deployment, body, dry_run=dry_run)
        except KubeError as exc:
            how = "in a server-side dry run" if dry_run else ""
            message = self.redactor.text(exc.message)
            raise BadInput(
                f"the API server rejected the change of {self.what} {how}: {message}".replace("  ", " ")
            ) from None

    def close(self) -> None:
        self.api.close()


def _by_count(images: Counter[str]) -> list[tuple[str, int]]:
    """Most pods first; equal counts by image, so the order is stable."""
    return sorted(images.items(), key=lambda item: (-item[1], item[0]))


def _image_or_none(obj: dict[str, Any], container: str) -> str | None:
    try:
        return container_image(obj, container, "a ReplicaSet")
    except BadInput:
        return None


def _template_diff(before: dict[str, Any], after: dict[str, Any], what: str) -> tuple[str, ...]:
    """Unified diff of the pod template (``spec.template``) before and after, as YAML."""

    def dump(obj: dict[str, Any]) -> list[str]:
        template = (obj.get("spec") or {}).get("template") or {}
        return yaml.safe_dump(template, sort_keys=True, default_flow_style=False).splitlines()

    lines = difflib.unified_diff(
        dump(before), dump(after), f"{what} pod template (current)", f"{what} pod template (dry run)", lineterm=""
    )
    return tuple(lines)
