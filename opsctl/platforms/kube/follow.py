"""Following one rollout of a Deployment to a verdict, as ``kubectl rollout status`` does, and saying why it fails.

Every poll (at most 5 s apart) reads the Deployment; while it is not done,
the pods of *our* ReplicaSet (the one whose template runs the new image) are
read too, so that a pod stuck in ImagePullBackOff or CrashLoopBackOff fails
the rollout at the next poll instead of at the progress deadline. A rollout
that makes no progress for the stall window fails before ``--timeout``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opsctl.config import KubernetesPlatformConfig
from opsctl.config.kube import MAX_POLL_INTERVAL
from opsctl.errors import OpsctlError, Unavailable
from opsctl.platforms.base import Release, RolloutOptions, RolloutResult, RolloutStatus
from opsctl.platforms.kube.api import KubeApi
from opsctl.platforms.kube.diagnose import Diagnosis, diagnose
from opsctl.platforms.kube.objects import (
    TEMPLATE_HASH,
    Verdict,
    container_image,
    our_replica_set,
    progress_key,
    replicas_line,
    revision,
    rollout_verdict,
    selector_of,
    template_hash,
)
from opsctl.values.durations import format_duration
from opsctl.values.redact import Redactor


@dataclass
class _Watch:
    """What one follow remembers between polls."""

    last_progress: float
    last_key: tuple[int, ...] | None = None
    last_said: str = ""
    deployment: dict[str, Any] | None = None
    problem: Diagnosis | None = None
    pull_errors: set[str] = field(default_factory=set)


def stall_window(config: KubernetesPlatformConfig, timeout: float, interval: float) -> float:
    """How long a rollout may make no progress: ``stall_timeout``, but always well inside ``timeout``."""
    return max(interval, min(config.stall_timeout, timeout / 2))


@dataclass
class Follower:
    """Follows the Deployment of ``config`` until ``image`` is rolled out, fails, is replaced, or time runs out."""

    api: KubeApi
    config: KubernetesPlatformConfig
    options: RolloutOptions
    redactor: Redactor
    release_of: Callable[[dict[str, Any]], Release]
    clock: Callable[[], float] = time.monotonic

    @property
    def what(self) -> str:
        return f"deployment {self.config.namespace}/{self.config.deployment}"

    def follow(self, image: str) -> RolloutResult:
        interval = min(self.options.poll_interval, self.config.poll_interval, MAX_POLL_INTERVAL)
        watch = _Watch(last_progress=self.clock())
        deadline = watch.last_progress + self.options.timeout
        stall = stall_window(self.config, self.options.timeout, interval)
        while True:
            if self.options.cancel.is_set():
                message = "cancelled while following the rollout (it goes on in the cluster)"
                return self._result(RolloutStatus.INTERRUPTED, watch.deployment, message)
            try:
                looked = self._look(image, watch)
            except Unavailable as exc:  # a blip of the API server: the rollout goes on without us; look again
                self._emit(f"{exc}; retrying")
                looked = None
            if isinstance(looked, RolloutResult):
                return looked
            now = self.clock()
            if looked is not None and watch.deployment is not None:
                self._progress(watch, watch.deployment, looked, now)
                if now - watch.last_progress >= stall:
                    why = f"no progress for {format_duration(now - watch.last_progress)} ({looked.message})"
                    return self._failed(watch.deployment, image, f"stalled: {why}", watch.problem)
            if now >= deadline:
                message = f"{image} not rolled out within {format_duration(self.options.timeout)}"
                return self._result(
                    RolloutStatus.TIMEOUT, watch.deployment, f"{message}: {watch.last_said or 'no answer'}"
                )
            self.options.cancel.wait(max(0.0, min(interval, deadline - now)))

    def _look(self, image: str, watch: _Watch) -> RolloutResult | Verdict:
        """One poll: a final result, or the verdict of a rollout still under way."""
        deployment = self.api.deployment(self.config.namespace, self.config.deployment)
        watch.deployment = deployment
        running = container_image(deployment, self.config.container, self.what)
        if running != image:
            message = (
                f"{self.what} no longer rolls out {image}: its {self.config.container} image is now "
                f"{running} (changed by someone else)"
            )
            return self._result(RolloutStatus.REVERTED, deployment, message)
        verdict = rollout_verdict(deployment)
        if verdict.done:
            return self._result(RolloutStatus.STABLE, deployment, f"{image}: {verdict.message}")
        watch.problem = self._diagnose(deployment, image, watch.pull_errors)
        if verdict.failed:
            return self._failed(deployment, image, verdict.message, watch.problem)
        if watch.problem is not None and watch.problem.fatal:
            return self._failed(deployment, image, watch.problem.reason, watch.problem)
        return verdict

    def _progress(self, watch: _Watch, deployment: dict[str, Any], verdict: Verdict, now: float) -> None:
        """Note progress (a changed status) and tell the live view what changed."""
        key = progress_key(deployment)
        if key != watch.last_key:
            watch.last_key, watch.last_progress = key, now
        said = f"{self.what}: {verdict.message} ({replicas_line(deployment)})"
        if watch.problem is not None:
            said += f"; {watch.problem.describe()}"
        if said != watch.last_said:
            self._emit(said)
            watch.last_said = said

    def _diagnose(self, deployment: dict[str, Any], image: str, pull_errors: set[str]) -> Diagnosis | None:
        """What the pods of our ReplicaSet say; None while it has none (or they cannot be read)."""
        namespace, container = self.config.namespace, self.config.container
        with contextlib.suppress(Unavailable):
            found = self.api.replica_sets(namespace, selector_of(deployment))
            ours = our_replica_set(deployment, found, container, image)
            hash_ = template_hash(ours) if ours else None
            if hash_ is None:
                return None
            pods = self.api.pods(namespace, f"{selector_of(deployment)},{TEMPLATE_HASH}={hash_}")

            def logs(pod: str) -> list[str]:
                try:
                    text = self.api.pod_log(namespace, pod, container, previous=True, lines=20)
                except OpsctlError:
                    return []
                return text.splitlines()

            return diagnose(pods, container, pull_errors, logs)
        return None

    def _failed(self, deployment: dict[str, Any], image: str, why: str, problem: Diagnosis | None) -> RolloutResult:
        message = f"rollout of {image} failed: {why}"
        if problem is not None and problem.reason not in why:
            message += f"; {problem.describe()}"
        elif problem is not None:
            message = f"rollout of {image} failed: {problem.describe()}"
        detail = {"diagnosis": problem.as_dict()} if problem else {}
        return self._result(RolloutStatus.FAILED, deployment, message, detail)

    def _result(
        self,
        status: RolloutStatus,
        deployment: dict[str, Any] | None,
        message: str,
        detail: dict[str, Any] | None = None,
    ) -> RolloutResult:
        release = self.release_of(deployment) if deployment is not None else None
        facts: dict[str, Any] = dict(detail or {})
        if deployment is not None:
            facts.update(revision=revision(deployment), replicas=replicas_line(deployment))
        return RolloutResult(status, release, self.redactor.text(message), self.redactor.value(facts))

    def _emit(self, message: str) -> None:
        self.options.on_event(self.redactor.text(message))
