"""The tasks of one ECS deployment: which stopped, and why, in one line each.

ECS names the deployment that started a task in the task's ``startedBy``
(``ecs-svc/...``, the deployment id), so the tasks of *our* rollout are told
apart from the old ones being drained. A task that stopped on its own (it
failed to start, an essential container exited, it failed its health checks)
is a failure; one stopped by a person or by scaling is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opsctl.platforms.ecs_taskdef import td_id

# stopCode values that mean the task itself failed.
FAILURE_CODES = frozenset({"TaskFailedToStart", "EssentialContainerExited"})
# Error names ECS puts in stoppedReason / container reason (first word), for a failure without a stopCode.
KNOWN_ERRORS = (
    "CannotPullContainerError",
    "CannotStartContainerError",
    "CannotInspectContainerError",
    "CannotCreateVolumeError",
    "ResourceInitializationError",
    "OutOfMemoryError",
    "ContainerRuntimeError",
    "ContainerRuntimeTimeoutError",
    "InternalError",
)
# Exit codes of a container stopped on purpose (SIGTERM / SIGINT / SIGKILL after the stop timeout).
_STOP_SIGNAL_EXITS = frozenset({130, 137, 143})


def short_id(task_arn: str) -> str:
    """``arn:aws:ecs:...:task/hvb-staging/0a1b2c...`` -> ``0a1b2c...`` (what the console and log streams use)."""
    return task_arn.rsplit("/", 1)[-1]


def _when(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds").replace("+00:00", "Z")
    return str(value) if value else None


@dataclass(frozen=True)
class ContainerState:
    name: str
    exit_code: int | None
    reason: str
    last_status: str

    @property
    def failed(self) -> bool:
        return bool(self.reason) or self.exit_code not in (None, 0)

    def describe(self) -> str:
        exited = f" exited with code {self.exit_code}" if self.exit_code is not None else ""
        return f"container {self.name}{exited}" + (f": {self.reason}" if self.reason else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "exit_code": self.exit_code,
            "reason": self.reason or None,
            "status": self.last_status,
        }


@dataclass(frozen=True)
class TaskState:
    """What DescribeTasks said about one task, reduced to what a diagnosis shows."""

    arn: str
    last_status: str
    desired_status: str
    started_by: str
    task_definition: str
    stop_code: str
    stopped_reason: str
    created_at: str | None
    stopped_at: str | None
    containers: tuple[ContainerState, ...] = field(default=())

    @classmethod
    def of(cls, task: Mapping[str, Any]) -> TaskState:
        containers = tuple(
            ContainerState(
                name=str(c.get("name") or "?"),
                exit_code=c.get("exitCode") if isinstance(c.get("exitCode"), int) else None,
                reason=str(c.get("reason") or ""),
                last_status=str(c.get("lastStatus") or ""),
            )
            for c in task.get("containers") or []
        )
        return cls(
            arn=str(task.get("taskArn") or ""),
            last_status=str(task.get("lastStatus") or ""),
            desired_status=str(task.get("desiredStatus") or ""),
            started_by=str(task.get("startedBy") or ""),
            task_definition=str(task.get("taskDefinitionArn") or ""),
            stop_code=str(task.get("stopCode") or ""),
            stopped_reason=str(task.get("stoppedReason") or ""),
            created_at=_when(task.get("createdAt")),
            stopped_at=_when(task.get("stoppedAt")),
            containers=containers,
        )

    @property
    def id(self) -> str:
        return short_id(self.arn)

    @property
    def stopped(self) -> bool:
        return self.last_status == "STOPPED"

    def failure(self) -> str | None:
        """Why this task failed, in one line; None when it runs, or was stopped on purpose."""
        if not self.stopped and self.desired_status != "STOPPED":
            return None
        reason = self.stopped_reason
        if self.stop_code == "UserInitiated" or reason.startswith("Scaling activity initiated"):
            return None
        failed = [c for c in self.containers if c.failed and not self._signal_exit(c)]
        recognised = (
            self.stop_code in FAILURE_CODES
            or "health check" in reason.lower()
            or bool(failed)
            or reason.startswith(KNOWN_ERRORS)
        )
        if not recognised:
            return None
        parts = [c.describe() for c in failed]
        if reason and not any(reason in c.reason for c in failed):
            parts.insert(0, reason)
        return "; ".join(parts) or f"stopped ({self.stop_code or 'no reason given'})"

    def _signal_exit(self, container: ContainerState) -> bool:
        if container.reason:
            return False
        # A container killed by the scheduler (ELB health checks, deployment) exits 137/143: not its own fault.
        return self.stop_code == "ServiceSchedulerInitiated" and container.exit_code in _STOP_SIGNAL_EXITS

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.id,
            "task_definition": td_id(self.task_definition) if self.task_definition else None,
            "last_status": self.last_status,
            "stop_code": self.stop_code or None,
            "stopped_reason": self.stopped_reason or None,
            "started_at": self.created_at,
            "stopped_at": self.stopped_at,
            "containers": [c.as_dict() for c in self.containers],
            "failure": self.failure(),
        }


def ours(task: TaskState, deployment_id: str | None, task_definition_arn: str) -> bool:
    """Whether ``task`` was started by our deployment (by id; without one, by our task definition)."""
    if deployment_id:
        return task.started_by == deployment_id
    return td_id(task.task_definition) == td_id(task_definition_arn)
