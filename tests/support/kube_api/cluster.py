"""The stand-in's objects and the controller that moves rollouts along, as kube-controller-manager would.

Objects are plain JSON dicts (the API reference's shapes). :meth:`Cluster.tick`
runs the Deployment controller's part that tests need: a new pod template gets
a ReplicaSet (``pod-template-hash``, ``deployment.kubernetes.io/revision``;
an old template's ReplicaSet is reused and gets the next revision, as
``kubectl rollout undo`` sees it), its pods start and become ready, or get stuck
as the image's failure mode says; old ReplicaSets scale to zero once the new
pods are all available; ``Progressing`` turns ``ProgressDeadlineExceeded``
after ``progressDeadlineSeconds`` without progress.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MODES = ("pull", "crash", "oom", "config", "unschedulable", "slow")
CRASH_LOG = "starting hotel-voice-bot\nloading settings\nKeyError: 'OPENAI_API_KEY'\nworker exited with code 1"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def template_hash(template: dict[str, Any]) -> str:
    raw = json.dumps(template, sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()[:10]


@dataclass
class PodState:
    created: float
    image: str
    mode: str | None


class Cluster:
    """All objects of the stand-in, guarded by one lock; ``ready_delay`` is how long a healthy pod takes."""

    def __init__(self, *, ready_delay: float = 0.3) -> None:
        self.lock = threading.RLock()
        self.ready_delay = ready_delay
        self.namespaces: set[str] = set()
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (kind, namespace, name) -> object
        self.pod_state: dict[tuple[str, str], PodState] = {}
        self.failures: list[tuple[str, str]] = []  # (image substring, mode)
        self._rv = itertools.count(100)
        self._uid = itertools.count(1)
        self._progress: dict[tuple[str, str], float] = {}  # deployment -> last progress (monotonic)
        self._progress_key: dict[tuple[str, str], tuple[int, ...]] = {}
        self.logs: dict[str, str] = {}  # image substring -> log text of a crashing container

    # -- objects ---------------------------------------------------------------------------

    def stamp(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(next(self._rv))
        meta.setdefault("uid", f"uid-{next(self._uid)}")
        meta.setdefault("creationTimestamp", now_iso())
        return obj

    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        self.objects[(kind, meta["namespace"], meta["name"])] = self.stamp(obj)
        return obj

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((kind, namespace, name))

    def items(self, kind: str, namespace: str, selector: str = "") -> list[dict[str, Any]]:
        wanted = dict(part.split("=", 1) for part in selector.split(",") if "=" in part)
        found = []
        for (k, ns, _), obj in sorted(self.objects.items()):
            labels = obj["metadata"].get("labels") or {}
            if k == kind and ns == namespace and all(labels.get(a) == b for a, b in wanted.items()):
                found.append(obj)
        return found

    def add_deployment(
        self,
        namespace: str,
        name: str,
        containers: list[dict[str, Any]],
        *,
        replicas: int = 2,
        progress_deadline: int = 600,
    ) -> dict[str, Any]:
        """A Deployment whose first rollout is already complete (revision 1, pods ready)."""
        with self.lock:
            self.namespaces.add(namespace)
            labels = {"app": name}
            deployment = {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": namespace, "generation": 1, "annotations": {}},
                "spec": {
                    "replicas": replicas,
                    "progressDeadlineSeconds": progress_deadline,
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": containers}},
                },
                "status": {},
            }
            self.put("deployments", deployment)
            self.tick(settle=True)
            return deployment

    def set_image(self, namespace: str, name: str, container: str, image: str) -> None:
        """``kubectl set image``: a change made outside opsctl."""
        with self.lock:
            deployment = self.objects[("deployments", namespace, name)]
            for c in deployment["spec"]["template"]["spec"]["containers"]:
                if c["name"] == container:
                    c["image"] = image
            deployment["metadata"]["generation"] += 1
            self.stamp(deployment)

    def fail_image(self, substring: str, mode: str) -> None:
        """Pods of images containing ``substring`` misbehave: one of :data:`MODES`."""
        assert mode in MODES, mode
        with self.lock:
            self.failures.append((substring, mode))

    def mode_of(self, image: str) -> str | None:
        return next((mode for sub, mode in self.failures if sub in image), None)

    # -- the controller --------------------------------------------------------------------

    def tick(self, *, settle: bool = False) -> None:
        """One pass of the controllers; ``settle``: pods are ready at once (setting up a test)."""
        with self.lock:
            for key, deployment in list(self.objects.items()):
                if key[0] == "deployments":
                    self._reconcile(deployment, settle)

    def _reconcile(self, deployment: dict[str, Any], settle: bool) -> None:
        meta, spec = deployment["metadata"], deployment["spec"]
        ns = meta["namespace"]
        now = time.monotonic()
        hash_ = template_hash(spec["template"])
        new, owned = self._replica_set_for(deployment, hash_, now)
        wanted = int(spec.get("replicas", 1))
        new_pods = self.items("pods", ns, f"pod-template-hash={hash_}")
        new_pods += [self._new_pod(new, settle) for _ in range(wanted - len(new_pods))]
        ready_new = [p for p in new_pods if self._pod_ready(p, now)]
        self._scale_down_old(new, owned, ns, now, everything=len(ready_new) >= wanted)
        all_pods = [p for rs in owned for p in self.items("pods", ns, _hash_selector(rs))]
        self._set_status(deployment, new, all_pods, updated=len(new_pods), ready_new=len(ready_new), now=now)

    def _replica_set_for(
        self, deployment: dict[str, Any], hash_: str, now: float
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The ReplicaSet of the current template (made, or reused with the next revision) and all owned ones."""
        meta = deployment["metadata"]
        key = (meta["namespace"], meta["name"])
        owned = [rs for rs in self.items("replicasets", meta["namespace"]) if _owner(rs) == meta["uid"]]
        new = next((rs for rs in owned if rs["metadata"]["labels"]["pod-template-hash"] == hash_), None)
        top = max((int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]) for rs in owned), default=0)
        if new is None:
            new = self._new_replica_set(deployment, hash_, top + 1)
            owned.append(new)
            self._progress[key] = now
        elif int(new["metadata"]["annotations"]["deployment.kubernetes.io/revision"]) < top:
            new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = str(top + 1)
            self.stamp(new)
            self._progress[key] = now
        revision = new["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        meta.setdefault("annotations", {})["deployment.kubernetes.io/revision"] = revision
        cause = (meta.get("annotations") or {}).get("kubernetes.io/change-cause")
        if cause and int(revision) > top:
            new["metadata"]["annotations"]["kubernetes.io/change-cause"] = cause
        return new, owned

    def _scale_down_old(
        self, new: dict[str, Any], owned: list[dict[str, Any]], ns: str, now: float, *, everything: bool
    ) -> None:
        """As the rolling update does: unhealthy pods of older ReplicaSets go first, the rest once the new are up."""
        for rs in owned:
            if rs is not new:
                for pod in self.items("pods", ns, _hash_selector(rs)):
                    if everything or not self._pod_ready(pod, now):
                        self._delete_pod(pod)

    def _set_status(
        self,
        deployment: dict[str, Any],
        new: dict[str, Any],
        all_pods: list[dict[str, Any]],
        *,
        updated: int,
        ready_new: int,
        now: float,
    ) -> None:
        meta, spec = deployment["metadata"], deployment["spec"]
        key = (meta["namespace"], meta["name"])
        wanted = int(spec.get("replicas", 1))
        ready_all = [p for p in all_pods if self._pod_ready(p, now)]
        status = {
            "observedGeneration": meta["generation"],
            "replicas": len(all_pods),
            "updatedReplicas": updated,
            "readyReplicas": len(ready_all),
            "availableReplicas": len(ready_all),
        }
        progress = tuple(status.values())
        if self._progress_key.get(key) != progress:
            self._progress_key[key] = progress
            self._progress[key] = now
        complete = ready_new >= wanted and len(all_pods) == updated
        deadline = float(spec.get("progressDeadlineSeconds", 600))
        rs_name = new["metadata"]["name"]
        if complete:
            progressing = ("True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.')
        elif now - self._progress.get(key, now) > deadline:
            progressing = ("False", "ProgressDeadlineExceeded", f'ReplicaSet "{rs_name}" has timed out progressing.')
        else:
            progressing = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
        available = (
            ("True", "MinimumReplicasAvailable")
            if len(ready_all) >= wanted
            else ("False", "MinimumReplicasUnavailable")
        )
        status["conditions"] = [
            {
                "type": "Available",
                "status": available[0],
                "reason": available[1],
                "message": "Deployment availability.",
            },
            {"type": "Progressing", "status": progressing[0], "reason": progressing[1], "message": progressing[2]},
        ]
        if deployment.get("status") != status:
            deployment["status"] = status
            self.stamp(deployment)

    def _new_replica_set(self, deployment: dict[str, Any], hash_: str, revision: int) -> dict[str, Any]:
        meta = deployment["metadata"]
        template = copy.deepcopy(deployment["spec"]["template"])
        template["metadata"].setdefault("labels", {})["pod-template-hash"] = hash_
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta['name']}-{hash_}",
                "namespace": meta["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                "ownerReferences": [
                    {"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"], "uid": meta["uid"]}
                ],
            },
            "spec": {"replicas": deployment["spec"].get("replicas", 1), "template": template},
        }
        return self.put("replicasets", rs)

    def _new_pod(self, rs: dict[str, Any], settle: bool) -> dict[str, Any]:
        template = rs["spec"]["template"]
        name = f"{rs['metadata']['name']}-{hashlib.sha256(str(next(self._uid)).encode()).hexdigest()[:5]}"
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": rs["metadata"]["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "ownerReferences": [
                    {"kind": "ReplicaSet", "name": rs["metadata"]["name"], "uid": rs["metadata"]["uid"]}
                ],
            },
            "spec": copy.deepcopy(template["spec"]),
            "status": {},
        }
        self.put("pods", pod)
        image = template["spec"]["containers"][0]["image"]
        images = " ".join(c["image"] for c in template["spec"]["containers"])
        created = time.monotonic() - (10 * self.ready_delay if settle else 0.0)
        self.pod_state[(pod["metadata"]["namespace"], name)] = PodState(created, image, self.mode_of(images))
        self._pod_ready(pod, time.monotonic())
        return pod

    def _delete_pod(self, pod: dict[str, Any]) -> None:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        self.objects.pop(("pods", ns, name), None)
        self.pod_state.pop((ns, name), None)

    def _pod_ready(self, pod: dict[str, Any], now: float) -> bool:
        """Bring the pod's status up to ``now``; whether it is ready."""
        state = self.pod_state[(pod["metadata"]["namespace"], pod["metadata"]["name"])]
        age = now - state.created
        containers = pod["spec"]["containers"]
        ready = age >= self.ready_delay and state.mode is None
        if state.mode == "slow":
            ready = age >= self.ready_delay * 20
        scheduled = state.mode != "unschedulable"
        statuses = [_container_status(c, state, age, delay=self.ready_delay, ready=ready) for c in containers]
        conditions = [
            {"type": "PodScheduled", "status": "True" if scheduled else "False"},
            {"type": "Ready", "status": "True" if ready else "False"},
        ]
        if not scheduled:
            conditions[0].update(reason="Unschedulable", message="0/3 nodes are available: 3 Insufficient cpu.")
            statuses = []
        status = {"phase": "Running" if ready else "Pending", "conditions": conditions, "containerStatuses": statuses}
        if pod.get("status") != status:
            pod["status"] = status
        return ready

    def log_of(self, namespace: str, pod: str) -> str:
        state = self.pod_state.get((namespace, pod))
        if state is None:
            return ""
        for sub, text in self.logs.items():
            if sub in state.image:
                return text
        return CRASH_LOG if state.mode in ("crash", "oom") else "serving on :8080\n"


def _hash_selector(rs: dict[str, Any]) -> str:
    return f"pod-template-hash={rs['metadata']['labels']['pod-template-hash']}"


def _owner(obj: dict[str, Any]) -> str | None:
    refs = obj["metadata"].get("ownerReferences") or []
    return refs[0]["uid"] if refs else None


def _container_status(c: dict[str, Any], state: PodState, age: float, *, delay: float, ready: bool) -> dict[str, Any]:
    mode = state.mode if c["image"] == state.image or state.mode in ("config",) else None
    status: dict[str, Any] = {"name": c["name"], "image": c["image"], "ready": ready, "restartCount": 0}
    if ready or (mode is None and age >= delay):
        status["state"] = {"running": {"startedAt": now_iso()}}
    elif mode == "pull":
        reason = "ErrImagePull" if age < delay / 3 else "ImagePullBackOff"
        status["state"] = {"waiting": {"reason": reason, "message": f'Back-off pulling image "{c["image"]}"'}}
    elif mode in ("crash", "oom") and age >= delay / 3:
        restarts = 1 + int(age / delay)
        status["restartCount"] = restarts
        last = {"exitCode": 137, "reason": "OOMKilled"} if mode == "oom" else {"exitCode": 1, "reason": "Error"}
        status["lastState"] = {"terminated": last}
        back_off = f"back-off 10s restarting failed container={c['name']}"
        status["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": back_off}}
    elif mode == "config" and age >= delay / 3:
        message = 'secret "hvb-secrets" not found'
        status["state"] = {"waiting": {"reason": "CreateContainerConfigError", "message": message}}
    else:
        status["state"] = {"waiting": {"reason": "ContainerCreating"}}
    return status
