"""Follow one ECS service update to a verdict (stable, failed, reverted, timeout, interrupted).

The rules, for real ECS:
- *our* deployment is the one UpdateService answered with (by id); without an
  id (resume), the PRIMARY deployment carrying our task definition;
- stable: the service still points at our task definition, our deployment is
  PRIMARY and its rolloutState is COMPLETED (or, where ECS reports no
  rolloutState, it is the only deployment and runs desiredCount tasks);
- reverted: the service points at another task definition (the circuit
  breaker rolled back, or someone else deployed);
- failed: our rolloutState is FAILED, an event says a task cannot be placed, or
  a task of our deployment stopped on its own (failed to start, an essential
  container exited, failed health checks: ECS would retry it until its circuit
  breaker gives up, minutes later);
- stalled (failed): no task of ours reached RUNNING within ``stall_timeout``.

Polls are steady (``poll_interval``, at most :data:`MAX_POLL_DELAY`): one
DescribeServices each; tasks are read only when our deployment's counts or
state move (:mod:`opsctl.platforms.ecs_diagnosis`). A verdict other than
stable carries ``detail["diagnosis"]``; each task of ours that stops goes to ``on_event``.

A deployment record whose ``taskDefinition`` lags behind the service's (moto
never moves it on UpdateService) is still recognised as ours by id or by being
PRIMARY while the service points at our revision: the service's own
``taskDefinition`` is the source of truth for what it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opsctl.platforms.base import Release, RolloutOptions, RolloutResult, RolloutStatus
from opsctl.platforms.ecs_diagnosis import EcsInspector
from opsctl.platforms.ecs_taskdef import td_id
from opsctl.values.durations import format_duration
from opsctl.values.redact import Redactor

PLACEMENT_FAILURE = "unable to place a task"
# Never longer between two polls while a rollout runs: a failure is noticed within seconds (issue 19).
MAX_POLL_DELAY = 5.0


@dataclass
class Target:
    """What we are following: our task definition, our deployment, the events seen before us."""

    release: Release
    previous: Release | None
    deployment_id: str | None = None
    seen_events: set[str] = field(default_factory=set)
    registered: bool = False
    events: list[str] = field(default_factory=list)  # service events since we started following, oldest first

    @property
    def arn(self) -> str:
        return str(self.release.detail.get("arn") or self.release.id)


def event_ids(service: Mapping[str, Any]) -> set[str]:
    return {str(e.get("id")) for e in service.get("events", []) if e.get("id")}


def our_deployment(service: Mapping[str, Any], target: Target) -> dict[str, Any] | None:
    deployments: list[dict[str, Any]] = list(service.get("deployments", []))
    ours = td_id(target.arn)
    if target.deployment_id:
        for deployment in deployments:
            if deployment.get("id") == target.deployment_id:
                return deployment
    for deployment in deployments:
        if deployment.get("status") == "PRIMARY" and td_id(str(deployment.get("taskDefinition", ""))) == ours:
            return deployment
    if td_id(str(service.get("taskDefinition", ""))) == ours:
        for deployment in deployments:
            if deployment.get("status") == "PRIMARY":
                return deployment
    return None


def _is_stable(service: Mapping[str, Any], deployment: Mapping[str, Any]) -> bool:
    if deployment.get("status") != "PRIMARY":
        return False
    state = deployment.get("rolloutState")
    if state is not None:
        return bool(state == "COMPLETED")
    only = len(service.get("deployments", [])) == 1
    return only and deployment.get("runningCount") == deployment.get("desiredCount")


def _adopted_id(deployment: Mapping[str, Any], target: Target) -> str | None:
    """On resume, the id of the deployment that carries our task definition (it names our tasks)."""
    if td_id(str(deployment.get("taskDefinition", ""))) != td_id(target.arn):
        return None
    return str(deployment["id"]) if deployment.get("id") else None


def _circuit_breaker_on(service: Mapping[str, Any]) -> bool:
    breaker = service.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker", {})
    return bool(breaker.get("enable") and breaker.get("rollback"))


@dataclass
class Follower:
    """Polls DescribeServices for one rollout; ``describe`` returns the service dict."""

    describe: Callable[[], dict[str, Any]]
    release_for: Callable[[str], Release | None]  # task definition ARN -> Release (None if unreadable)
    redactor: Redactor
    options: RolloutOptions
    clock: Callable[[], float] = time.monotonic
    inspector: EcsInspector | None = None  # reads tasks on change and explains a bad verdict
    stall_timeout: float | None = None  # fail when no task of ours reached RUNNING by then

    def follow(self, target: Target) -> RolloutResult:
        opts = self.options
        started = self.clock()
        deadline = started + opts.timeout
        delay = min(max(opts.poll_interval, 0.01), MAX_POLL_DELAY)
        ours = target.release.id
        running_seen = False
        while True:
            if opts.cancel.is_set():
                return self._result(RolloutStatus.INTERRUPTED, target, self._interrupted(ours))
            service = self.describe()
            verdict = self._verdict(service, target)
            deployment = our_deployment(service, target)
            if target.deployment_id is None and deployment is not None:
                target.deployment_id = _adopted_id(deployment, target)
            running_seen = running_seen or int((deployment or {}).get("runningCount") or 0) > 0
            if verdict is None:
                verdict = self._stopped_tasks(service, deployment, target)
            if verdict is None and not running_seen and self._stalled(started, deployment):
                verdict = self._stall(service, deployment, target)
            remaining = deadline - self.clock()
            if verdict is None and remaining <= 0:
                verdict = self._result(RolloutStatus.TIMEOUT, target, self._timeout(service, target), service)
            if verdict is not None:
                return self._explained(verdict, service, deployment, target)
            if opts.cancel.wait(min(delay, remaining)):
                return self._result(RolloutStatus.INTERRUPTED, target, self._interrupted(ours))

    def _stopped_tasks(
        self, service: Mapping[str, Any], deployment: Mapping[str, Any] | None, target: Target
    ) -> RolloutResult | None:
        """FAILED as soon as a task of our deployment stopped on its own (read only when counts move)."""
        if self.inspector is None or deployment is None:
            return None
        failed = self.inspector.watch(deployment, target.deployment_id, target.arn)
        if not failed:
            return None
        for task in failed:
            self.options.on_event(
                self.redactor.text(f"task {task.id} of {target.release.id} stopped: {task.failure()}")
            )
        reason = self.redactor.text(self.inspector.reason() or "a task stopped")
        return self._result(
            RolloutStatus.FAILED, target, f"ECS rollout of {target.release.id} failed: {reason}", service
        )

    def _stalled(self, started: float, deployment: Mapping[str, Any] | None) -> bool:
        if self.stall_timeout is None or deployment is None:
            return False
        return self.clock() - started >= self.stall_timeout

    def _stall(self, service: Mapping[str, Any], deployment: Mapping[str, Any] | None, target: Target) -> RolloutResult:
        dep = deployment or {}
        pending = int(dep.get("pendingCount") or 0)
        message = (
            f"{target.release.id} stalled: no task reached RUNNING within "
            f"{format_duration(self.stall_timeout or 0)} ({dep.get('runningCount', 0)}/{dep.get('desiredCount', 0)} "
            f"tasks running, {pending} pending); ECS would keep trying until --timeout"
        )
        result = self._result(RolloutStatus.FAILED, target, message, service)
        result.detail["stalled"] = True
        return result

    def _explained(
        self, result: RolloutResult, service: Mapping[str, Any], deployment: Mapping[str, Any] | None, target: Target
    ) -> RolloutResult:
        """Attach the diagnosis to a verdict other than stable (the run shows its text with the verdict)."""
        if result.status in (RolloutStatus.STABLE, RolloutStatus.INTERRUPTED) or self.inspector is None:
            return result
        verdict = "stalled" if result.detail.get("stalled") else result.status.value
        diagnosis = self.inspector.diagnose(
            verdict,
            service=service,
            deployment=deployment,
            deployment_id=target.deployment_id,
            arn=target.arn,
            events=list(target.events),
        )
        message = result.message
        reason = diagnosis.get("reason")
        if reason and reason not in message:
            message = f"{message}; {reason}"
        return RolloutResult(result.status, result.release, message, {**result.detail, "diagnosis": diagnosis})

    def _verdict(self, service: dict[str, Any], target: Target) -> RolloutResult | None:
        placement = self._stream_events(service, target)
        ours = target.release.id
        now_on = td_id(str(service.get("taskDefinition", "")))
        deployment = our_deployment(service, target)
        if now_on != ours:
            failed = deployment is not None and deployment.get("rolloutState") == "FAILED"
            if failed or _circuit_breaker_on(service):
                message = (
                    f"ECS rolled the service back to {now_on} (deployment circuit breaker); "
                    f"{ours} did not become stable"
                )
            else:
                message = f"the service was switched to {now_on} while {ours} was rolling out"
            back = self.release_for(str(service.get("taskDefinition", "")))
            return RolloutResult(RolloutStatus.REVERTED, back, message, self._detail(target, service))
        if deployment is not None and deployment.get("rolloutState") == "FAILED":
            reason = self.redactor.text(str(deployment.get("rolloutStateReason") or "no reason given"))
            return self._result(RolloutStatus.FAILED, target, f"ECS rollout of {ours} failed: {reason}", service)
        if placement is not None:
            return self._result(
                RolloutStatus.FAILED, target, f"ECS cannot place tasks for {ours}: {placement}", service
            )
        if deployment is not None and _is_stable(service, deployment):
            running, desired = deployment.get("runningCount", 0), deployment.get("desiredCount", 0)
            message = f"{ours} ({target.release.image}) is stable: {running}/{desired} tasks running"
            return self._result(RolloutStatus.STABLE, target, message, service)
        return None

    def _stream_events(self, service: Mapping[str, Any], target: Target) -> str | None:
        """Pass events newer than our update to ``on_event``, oldest first; return a placement failure."""
        placement: str | None = None
        # ECS lists events newest first.
        for event in reversed(service.get("events", [])):
            event_id = str(event.get("id") or "")
            if not event_id or event_id in target.seen_events:
                continue
            target.seen_events.add(event_id)
            message = self.redactor.text(str(event.get("message", "")))
            target.events.append(message)
            self.options.on_event(message)
            if PLACEMENT_FAILURE in message.lower() and placement is None:
                placement = message
        return placement

    def _timeout(self, service: Mapping[str, Any], target: Target) -> str:
        deployment = our_deployment(service, target) or {}
        state = deployment.get("rolloutState", "unknown")
        running, desired = deployment.get("runningCount", 0), deployment.get("desiredCount", 0)
        return (
            f"{target.release.id} not stable after {format_duration(self.options.timeout)} "
            f"(rollout {str(state).lower()}, {running}/{desired} tasks running)"
        )

    @staticmethod
    def _interrupted(ours: str) -> str:
        return f"stopped following {ours} (cancelled); ECS continues the rollout by itself"

    @staticmethod
    def _detail(target: Target, service: Mapping[str, Any] | None) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "task_definition": target.arn,
            "deployment_id": target.deployment_id,
            "registered": target.registered,
            "previous": target.previous.id if target.previous else None,
        }
        if service is not None:
            detail["service_task_definition"] = service.get("taskDefinition")
            detail["deployments"] = len(service.get("deployments", []))
        return detail

    def _result(
        self, status: RolloutStatus, target: Target, message: str, service: Mapping[str, Any] | None = None
    ) -> RolloutResult:
        return RolloutResult(status, target.release, message, self._detail(target, service))
