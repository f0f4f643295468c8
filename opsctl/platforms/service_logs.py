"""The service's logs for ``opsctl logs``: CloudWatch Logs FilterLogEvents over its awslogs group (ECS).

Where the logs are comes from the task definition the service runs (or the one
a past run deployed): the configured container's ``awslogs-group`` and stream
prefix. Fly's Machines API serves no logs, so a Fly environment gets one clear
line naming ``fly logs`` instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsctl.aws.logs import LogLine, filter_events
from opsctl.errors import BadInput
from opsctl.platforms.ecs_logs import AwsLogs, awslogs_of, log_driver_of
from opsctl.platforms.ecs_taskdef import td_id
from opsctl.values.redact import Redactor

if TYPE_CHECKING:
    from opsctl.config import EcsPlatformConfig

FOLLOW_INTERVAL = 2.0  # seconds between two reads of --follow


@dataclass(frozen=True)
class LogsQuery:
    """Which events: a time window (ms since the epoch), a task definition, and maybe only some tasks."""

    start_ms: int
    end_ms: int | None = None
    task_definition: str | None = None  # a run's revision; None: what the service runs now
    tasks: tuple[str, ...] = ()  # only these tasks' streams (a run's diagnosed tasks)


def not_available(env: str, platform: Any) -> BadInput:
    """The one line for a platform whose logs opsctl cannot read."""
    kind = getattr(platform, "kind", "?")
    if kind == "fly":
        return BadInput(
            f"logs are not available for {env}: the Fly Machines API serves no logs; "
            f"run `fly logs --app {platform.app}` instead"
        )
    return BadInput(f"logs are not available for {env}: opsctl reads logs of ECS services only (platform {kind})")


class ServiceLogs:
    """The CloudWatch Logs of one ECS service (``platform`` is the environment's ``platform:`` block)."""

    def __init__(self, env: str, platform: EcsPlatformConfig, redactor: Redactor | None = None) -> None:
        from opsctl.platforms.ecs import EcsPlatform

        self.env = env
        self.config = platform
        self.redactor = redactor or Redactor()
        self.ecs = EcsPlatform.from_config(platform, redactor=self.redactor)
        self._client: Any = None

    def destination(self, task_definition: str | None = None) -> AwsLogs:
        """The configured container's awslogs group and prefix; BadInput when it logs elsewhere."""
        api = self.ecs.api
        ref = task_definition or str(api.service()["taskDefinition"])
        td = api.task_definition(ref)
        if td is None:
            raise BadInput(f"task definition {td_id(ref)} no longer exists: its log settings cannot be read")
        container = self.config.container
        where = awslogs_of(td, container)
        if where is None:
            driver = log_driver_of(td, container) or "none"
            raise BadInput(
                f"container {container} of {td_id(ref)} does not log to CloudWatch Logs (log driver: {driver}); "
                "opsctl logs reads the awslogs driver only"
            )
        return where

    def _logs(self, where: AwsLogs) -> Any:
        if self._client is None:
            from opsctl.aws.logs import logs_client

            region = where.region or self.ecs.api.region
            self._client = logs_client(region, self.config.endpoint_url, self.config.profile)
        return self._client

    def read(self, where: AwsLogs, query: LogsQuery) -> Iterator[LogLine]:
        """The events of the window, oldest first, redacted."""
        streams = [s for s in (where.stream(t) for t in query.tasks) if s] if query.tasks else None
        for line in filter_events(
            self._logs(where),
            where.group,
            prefix=where.stream_prefix,
            streams=streams,
            start_ms=query.start_ms,
            end_ms=query.end_ms,
        ):
            yield LogLine(line.timestamp, line.stream, self.redactor.text(line.message), line.event_id)

    def follow(
        self, where: AwsLogs, query: LogsQuery, stop: threading.Event, interval: float = FOLLOW_INTERVAL
    ) -> Iterator[LogLine]:
        """The window's events, then new ones as they arrive, until ``stop`` is set (Ctrl-C ends it too)."""
        start = query.start_ms
        seen: set[str] = set()  # event ids at the newest timestamp: the next read starts there again
        while True:
            newest = start
            for line in self.read(where, LogsQuery(start, None, query.task_definition, query.tasks)):
                if line.event_id and line.event_id in seen:
                    continue
                if line.timestamp > newest:
                    newest, seen = line.timestamp, set()
                seen.add(line.event_id)
                yield line
            start = newest
            if stop.wait(interval):
                return

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self.ecs.close()
