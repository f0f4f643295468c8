"""Database migrations on ECS: one RunTask of the new task definition revision, followed to STOPPED.

The revision is the one the deploy will use (registered here as the deploy
would, and found again by it rather than registered twice); the task runs
with a command override for the configured container and with the service's
own network configuration and launch type or capacity provider strategy, so
it reaches the database exactly as the service does. It must exit 0; its
CloudWatch Logs stream (from the task definition's awslogs options) is the
diagnosis either way.

A task that is still running at the deadline, or when the run is cancelled,
is left running: stopping a migration halfway can leave the schema
half-changed, which is worse than waiting for it. The result says so.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

from opsctl.config import EcsPlatformConfig
from opsctl.errors import OpsctlError
from opsctl.platforms.base import RolloutOptions, checked_image
from opsctl.platforms.ecs_api import EcsApi
from opsctl.platforms.ecs_aws import Cancelled, mutate
from opsctl.platforms.ecs_logs import awslogs_of
from opsctl.platforms.ecs_taskdef import TaskDef, container_image, registrable, td_id, with_image
from opsctl.platforms.ecs_tasks import TaskState
from opsctl.platforms.migration import MigrationRequest, MigrationResult, MigrationStatus
from opsctl.values.imageref import ImageRef
from opsctl.values.redact import Redactor

MAX_POLL = 5.0  # the task's stop is reported within one poll of ECS reporting it
STARTED_BY_PREFIX = "opsctl-migrate-"

# (body, source task definition, options) -> (the revision to use, whether it was registered now)
Register = Callable[[TaskDef, TaskDef, RolloutOptions], tuple[TaskDef, bool]]


def run_task_args(
    service: dict[str, Any], task_definition: str, *, cluster: str, container: str, command: Sequence[str], token: str
) -> dict[str, Any]:
    """RunTask arguments for one migration task placed and networked like the service's own tasks."""
    args: dict[str, Any] = {
        "cluster": cluster,
        "taskDefinition": task_definition,
        "count": 1,
        "startedBy": f"{STARTED_BY_PREFIX}{token}",
        "clientToken": token,  # ECS's idempotency token: a re-send after a lost answer starts no second task
        "overrides": {"containerOverrides": [{"name": container, "command": list(command)}]},
    }
    if service.get("networkConfiguration"):
        args["networkConfiguration"] = service["networkConfiguration"]
    # ECS takes one or the other: a strategy (capacity providers) wins, as it does for the service.
    if service.get("capacityProviderStrategy"):
        args["capacityProviderStrategy"] = service["capacityProviderStrategy"]
    elif service.get("launchType"):
        args["launchType"] = service["launchType"]
    if service.get("platformVersion"):
        args["platformVersion"] = service["platformVersion"]
    return args


class EcsMigration:
    """Run one migration for the ECS service of ``config`` through ``api`` (the driver's own)."""

    def __init__(
        self,
        api: EcsApi,
        config: EcsPlatformConfig,
        redactor: Redactor,
        register: Register,
        *,
        logs_client: Callable[[str | None], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.config = config
        self.redactor = redactor
        self._register = register
        self._logs_client = logs_client or self._default_logs_client
        self._clock = clock

    def run(self, request: MigrationRequest, options: RolloutOptions) -> MigrationResult:
        ref = checked_image(request.image)
        image = str(ref)
        shown = request.shown
        service = self.api.service()
        td = self.api.require_task_definition(str(service["taskDefinition"]))
        try:
            target = self._revision(td, image, options)
        except Cancelled:
            return self._result(MigrationStatus.INTERRUPTED, f"cancelled before the migration `{shown}` started", ref)
        token = hashlib.sha256(f"{request.key}|{td_id(str(target['taskDefinitionArn']))}".encode()).hexdigest()[:32]
        started_by = f"{STARTED_BY_PREFIX}{token}"
        task = self._task_started_by(started_by)
        if task is not None:
            options.on_event(f"following migration task {TaskState.of(task).id} started by an earlier attempt")
        else:
            args = run_task_args(
                service,
                str(target["taskDefinitionArn"]),
                cluster=self.config.cluster,
                container=self.config.container,
                command=request.command,
                token=token,
            )
            try:
                task = self._start(args, started_by, options)
            except Cancelled:
                return self._result(MigrationStatus.INTERRUPTED, f"cancelled before ECS started `{shown}`", ref)
            except _NotStarted as exc:
                return self._result(MigrationStatus.FAILED, f"ECS could not start the migration `{shown}`: {exc}", ref)
        state = TaskState.of(task)
        options.on_event(f"migration task {state.id} ({td_id(state.task_definition)}) runs `{shown}`")
        return self._follow(state.arn, target, request, options, ref)

    # -- starting ------------------------------------------------------------------------

    def _revision(self, td: TaskDef, image: str, options: RolloutOptions) -> TaskDef:
        """The revision the deploy will roll out: the running one when it has ``image`` already, else a new one."""
        if container_image(td, self.config.container) == image:
            return td
        body = with_image(registrable(td, self.api.register_keys()), self.config.container, image)
        revision, registered = self._register(body, td, options)
        if registered:
            options.on_event(f"registered {td_id(str(revision['taskDefinitionArn']))} with {image} for the migration")
        return revision

    def _task_started_by(self, started_by: str) -> dict[str, Any] | None:
        """The newest task this migration started already (a resumed run, or a RunTask whose answer was lost)."""
        client, cluster = self.api.client, self.config.cluster
        arns: list[str] = []
        statuses: tuple[Literal["RUNNING", "STOPPED"], ...] = ("RUNNING", "STOPPED")
        for status in statuses:

            def listed(status: Literal["RUNNING", "STOPPED"] = status) -> Any:
                return client.list_tasks(cluster=cluster, startedBy=started_by, desiredStatus=status)

            arns += self.api.read("ListTasks", listed).get("taskArns", [])
        if not arns:
            return None
        tasks = self._describe(arns[:100])
        return max(tasks, key=lambda t: str(t.get("createdAt") or ""), default=None)

    def _start(self, args: dict[str, Any], started_by: str, options: RolloutOptions) -> dict[str, Any]:
        answer = mutate(
            "starting the migration task",
            lambda: dict(self.api.write_client.run_task(**args)),
            lambda: self._started(started_by),
            cancel=options.cancel,
            base_delay=min(options.poll_interval, 1.0),
            on_retry=options.on_event,
            redact=self.redactor.text,
            fence=options.fence,  # right before each RunTask: a run that lost its lock starts nothing
        )
        tasks = answer.get("tasks") or []
        if not tasks:
            failures = answer.get("failures") or [{}]
            why = "; ".join(f"{f.get('reason') or 'no reason given'} {f.get('detail') or ''}".strip() for f in failures)
            raise _NotStarted(self.redactor.text(why))
        return dict(tasks[0])

    def _started(self, started_by: str) -> dict[str, Any] | None:
        task = self._task_started_by(started_by)
        return {"tasks": [task]} if task is not None else None

    # -- following -----------------------------------------------------------------------

    def _describe(self, arns: list[str]) -> list[dict[str, Any]]:
        cluster = self.config.cluster
        answer = self.api.read("DescribeTasks", lambda: self.api.client.describe_tasks(cluster=cluster, tasks=arns))
        return [dict(t) for t in answer.get("tasks", [])]

    def _follow(
        self, arn: str, td: TaskDef, request: MigrationRequest, options: RolloutOptions, ref: ImageRef
    ) -> MigrationResult:
        interval = min(max(options.poll_interval, 0.01), MAX_POLL)
        deadline = self._clock() + request.timeout
        seen = ""
        while True:
            found = self._describe([arn])
            task = found[0] if found else {"taskArn": arn, "lastStatus": "UNKNOWN"}
            state = TaskState.of(task)
            if state.last_status != seen:
                seen = state.last_status
                options.on_event(f"migration task {state.id}: {seen.lower()}")
            if state.stopped:
                return self._verdict(task, td, request, ref)
            remaining = deadline - self._clock()
            if remaining <= 0:
                message = request.still_running(f"task {state.id}")
                return self._result(MigrationStatus.TIMEOUT, message, ref, state.id, logs=(td, state.id, request))
            if options.cancel.wait(min(interval, remaining)):
                message = request.interrupted(f"task {state.id}")
                return self._result(MigrationStatus.INTERRUPTED, message, ref, state.id)

    def _verdict(self, task: dict[str, Any], td: TaskDef, request: MigrationRequest, ref: ImageRef) -> MigrationResult:
        state = TaskState.of(task)
        name = self.config.container
        ours = next((c for c in state.containers if c.name == name), None)
        raw: dict[str, Any] = next((c for c in task.get("containers") or [] if c.get("name") == name), {})
        digest = ref.digest or (str(raw["imageDigest"]) if raw.get("imageDigest") else None)
        code = ours.exit_code if ours is not None else None
        if code == 0:
            message = request.exited_zero(f"task {state.id}, {td_id(state.task_definition)}")
            status = MigrationStatus.SUCCEEDED
        else:
            why = [f"container {name} exited with code {code}" if code is not None else f"container {name} never ran"]
            why += [r for r in (ours.reason if ours else "", state.stopped_reason) if r]
            message = request.failed(f"task {state.id}", "; ".join(why))
            status = MigrationStatus.FAILED
        return self._result(status, message, ref, state.id, code=code, digest=digest, logs=(td, state.id, request))

    def _result(
        self,
        status: MigrationStatus,
        message: str,
        ref: ImageRef,
        unit: str | None = None,
        *,
        code: int | None = None,
        digest: str | None = None,
        logs: tuple[TaskDef, str, MigrationRequest] | None = None,
    ) -> MigrationResult:
        lines, note = self._logs(*logs) if logs is not None else ((), None)
        return MigrationResult.of(
            status, self.redactor.text(message), ref, unit, code=code, digest=digest, logs=lines, logs_note=note
        )

    # -- logs ----------------------------------------------------------------------------

    def _logs(self, td: TaskDef, task_id: str, request: MigrationRequest) -> tuple[tuple[str, ...], str | None]:
        """The last ``request.log_lines`` lines of the task's awslogs stream, redacted; or why there are none."""
        from opsctl.aws.logs import LogsMissing, last_lines

        name = self.config.container
        dest = awslogs_of(td, name)
        if dest is None:
            return (), f"container {name} does not log to CloudWatch Logs (awslogs): no logs to show"
        stream = dest.stream(task_id)
        if stream is None:
            return (), f"no awslogs-stream-prefix for {name}: search log group {dest.group} for task {task_id}"
        try:
            lines = last_lines(self._logs_client(dest.region), dest.group, stream, request.log_lines)
        except LogsMissing:
            return (), f"no log stream {dest.group}/{stream}: the container wrote nothing"
        except OpsctlError as exc:
            return (), self.redactor.text(f"cannot read {dest.group}/{stream}: {exc}")
        if not lines:
            return (), f"{dest.group}/{stream} is empty"
        return tuple(self.redactor.text(line.message) for line in lines), None

    def _default_logs_client(self, region: str | None) -> Any:
        from opsctl.aws.logs import logs_client

        return logs_client(region or self.api.region, self.config.endpoint_url, self.config.profile)


class _NotStarted(Exception):
    """RunTask answered with failures and no task (no capacity, a bad subnet...)."""
