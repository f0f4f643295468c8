"""Why an ECS rollout failed or stalled: stopped tasks, service events, the new tasks' last log lines.

:class:`EcsInspector` rides along with the follower. Each poll costs one
DescribeServices; only when our deployment's counts or state change (or every
:data:`REFRESH_SECONDS` as a safety net) does it list the service's stopped
tasks and describe the ones it has not seen, so a task of ours that stopped on
its own is known within the poll that shows the change. At a verdict other
than stable it builds the diagnosis: a structured dict plus a short text,
carried in ``RolloutResult.detail["diagnosis"]``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opsctl.aws.logs import LogsMissing, last_lines
from opsctl.errors import OpsctlError, Unavailable
from opsctl.platforms.ecs_api import EcsApi
from opsctl.platforms.ecs_logs import awslogs_of, log_driver_of
from opsctl.platforms.ecs_taskdef import td_id
from opsctl.platforms.ecs_tasks import TaskState, ours
from opsctl.values.redact import Redactor

REFRESH_SECONDS = 30.0  # read the tasks at least this often, even when no count moved
MAX_TASKS = 10  # tasks listed in one diagnosis
MAX_EVENTS = 20  # service events listed in one diagnosis (the newest)


def deployment_signature(deployment: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """What changes when a task of the deployment starts, stops or fails (cheap, from DescribeServices)."""
    if deployment is None:
        return ()
    keys = ("status", "rolloutState", "runningCount", "pendingCount", "failedTasks", "desiredCount")
    return tuple(deployment.get(key) for key in keys)


@dataclass
class EcsInspector:
    """Watches the tasks of one deployment and explains a bad verdict (see the module docstring)."""

    api: EcsApi
    container: str
    redactor: Redactor
    logs_client: Callable[[str | None], Any] | None = None  # region -> CloudWatch Logs client
    log_lines: int = 50
    clock: Callable[[], float] = time.monotonic
    failed: list[TaskState] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reads: int = 0  # ListTasks calls made (the benchmark and tests count them)
    _known: set[str] = field(default_factory=set)
    _signature: tuple[Any, ...] | None = None
    _last_read: float = float("-inf")

    def watch(self, deployment: Mapping[str, Any] | None, deployment_id: str | None, arn: str) -> list[TaskState]:
        """Tasks of ours that failed since the last look; reads tasks only when something moved."""
        signature = deployment_signature(deployment)
        now = self.clock()
        if signature == self._signature and now - self._last_read < REFRESH_SECONDS:
            return []
        self._signature, self._last_read = signature, now
        return self._new_failures(deployment_id, arn)

    def _new_failures(self, deployment_id: str | None, arn: str) -> list[TaskState]:
        tasks = self._read("STOPPED", skip_known=True)
        fresh: list[TaskState] = []
        for task in tasks:
            failure = task.failure() if ours(task, deployment_id, arn) else None
            if task.stopped or failure:
                self._known.add(task.arn)
            if failure:
                fresh.append(task)
        self.failed += fresh
        return fresh

    def _read(self, desired_status: str, *, skip_known: bool) -> list[TaskState]:
        try:
            self.reads += 1
            arns = self.api.task_arns(desired_status)
            wanted = [a for a in arns if not (skip_known and a in self._known)]
            return [TaskState.of(t) for t in self.api.describe_tasks(wanted)] if wanted else []
        except OpsctlError as exc:
            note = f"could not read the service's tasks: {exc}"
            if note not in self.notes:
                self.notes.append(note)
            return []

    # -- the diagnosis --------------------------------------------------------------------

    def diagnose(
        self,
        verdict: str,
        *,
        service: Mapping[str, Any] | None,
        deployment: Mapping[str, Any] | None,
        deployment_id: str | None,
        arn: str,
        events: list[str],
    ) -> dict[str, Any]:
        """The structured diagnosis and its text (redacted) for a verdict other than stable."""
        self._new_failures(deployment_id, arn)  # a task that stopped since the last poll counts too
        live = [t for t in self._read("RUNNING", skip_known=False) if ours(t, deployment_id, arn)]
        tasks = [*self.failed, *(t for t in live if t.arn not in {f.arn for f in self.failed})][-MAX_TASKS:]
        logs = self._logs(arn, tasks)
        dep = deployment or {}
        diagnosis: dict[str, Any] = {
            "platform": "ecs",
            "verdict": verdict,
            "reason": self.reason(),
            "task_definition": td_id(arn),
            "deployment": deployment_id,
            "rollout": {
                "state": dep.get("rolloutState"),
                "reason": dep.get("rolloutStateReason"),
                "running": dep.get("runningCount"),
                "pending": dep.get("pendingCount"),
                "desired": dep.get("desiredCount"),
                "failed_tasks": dep.get("failedTasks"),
            },
            "tasks": [t.as_dict() for t in tasks],
            "events": events[-MAX_EVENTS:],
            "logs": logs,
            "notes": list(self.notes),
        }
        del service  # the deployment record carries what the diagnosis shows
        diagnosis["text"] = diagnosis_text(diagnosis)
        redacted: dict[str, Any] = self.redactor.value(diagnosis)
        return redacted

    def reason(self) -> str | None:
        """The first failure, in one line: ``task 0a1b2c3d stopped: CannotPullContainerError: ...``."""
        if not self.failed:
            return None
        first = self.failed[0]
        more = f" (and {len(self.failed) - 1} more)" if len(self.failed) > 1 else ""
        return f"task {first.id} stopped{more}: {first.failure()}"

    def _logs(self, arn: str, tasks: list[TaskState]) -> dict[str, Any] | None:
        """The last lines of the most telling task's stream: the newest failed task, else the newest task."""
        if self.logs_client is None or self.log_lines <= 0 or not tasks:
            return None
        task = self.failed[-1] if self.failed else tasks[-1]
        td = self._task_definition(arn)
        if td is None:
            return None
        failed_containers = [c.name for c in task.containers if c.failed]
        for name in [*failed_containers, self.container]:
            where = awslogs_of(td, name)
            if where is not None:
                break
        else:
            driver = log_driver_of(td, self.container)
            self.notes.append(f"container {self.container} does not log to CloudWatch Logs (log driver: {driver})")
            return None
        stream = where.stream(task.id)
        if stream is None:
            self.notes.append(f"log group {where.group} has no awslogs-stream-prefix: the task's stream is unknown")
            return None
        found: dict[str, Any] = {"group": where.group, "stream": stream, "task": task.id, "lines": []}
        try:
            lines = last_lines(self.logs_client(where.region), where.group, stream, self.log_lines)
        except LogsMissing:
            self.notes.append(f"no log stream {stream} in {where.group} (the container never started)")
            return found
        except (Unavailable, OpsctlError) as exc:
            self.notes.append(f"could not read {where.group}: {exc}")
            return found
        found["lines"] = [self.redactor.text(line.message) for line in lines]
        return found

    def _task_definition(self, arn: str) -> Mapping[str, Any] | None:
        try:
            return self.api.task_definition(arn)
        except OpsctlError as exc:
            self.notes.append(f"could not read task definition {td_id(arn)}: {exc}")
            return None


class LogsClients:
    """CloudWatch Logs clients, one per awslogs region, made on first use (most rollouts never need one)."""

    def __init__(self, region: str | None, endpoint_url: str | None, profile: str | None) -> None:
        self._default, self._endpoint_url, self._profile = region, endpoint_url, profile
        self._clients: dict[str | None, Any] = {}

    def __call__(self, region: str | None) -> Any:
        key = region or self._default
        if key not in self._clients:
            from opsctl.aws.logs import logs_client

            self._clients[key] = logs_client(key, self._endpoint_url, self._profile)
        return self._clients[key]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


def diagnosis_text(diagnosis: Mapping[str, Any]) -> str:
    """The diagnosis as a few lines for a terminal or a notification."""
    lines: list[str] = []
    if diagnosis.get("reason"):
        lines.append(f"why: {diagnosis['reason']}")
    rollout = diagnosis.get("rollout") or {}
    if rollout.get("state"):
        why = f" ({rollout['reason']})" if rollout.get("reason") else ""
        counts = f"{rollout.get('running') or 0}/{rollout.get('desired') or 0} running"
        if rollout.get("pending"):
            counts += f", {rollout['pending']} pending"
        if rollout.get("failed_tasks"):
            counts += f", {rollout['failed_tasks']} failed"
        lines.append(f"rollout {str(rollout['state']).lower()}{why}: {counts}")
    for task in diagnosis.get("tasks") or []:
        status = str(task.get("last_status") or "?")
        stop = f" {task['stop_code']}" if task.get("stop_code") else ""
        why = f": {task['failure']}" if task.get("failure") else ""
        lines.append(f"task {task['task']} ({task.get('task_definition')}) {status}{stop}{why}")
    events = diagnosis.get("events") or []
    if events:
        lines.append("service events since the deploy started:")
        lines += [f"  {event}" for event in events]
    logs = diagnosis.get("logs")
    if logs and logs.get("lines"):
        lines.append(f"last {len(logs['lines'])} log lines of {logs['stream']} ({logs['group']}):")
        lines += [f"  {line}" for line in logs["lines"]]
    lines += [f"note: {note}" for note in diagnosis.get("notes") or []]
    return "\n".join(lines)
