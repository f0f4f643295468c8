"""Where an ECS container's logs go: the awslogs settings of a task definition.

With the ``awslogs`` driver, ECS writes container ``C`` of task ``T`` to the
stream ``<awslogs-stream-prefix>/C/T`` of ``awslogs-group`` (in
``awslogs-region``). Without a stream prefix the stream is named after the
Docker container id, which ECS does not report: then only the whole group can
be searched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AwsLogs:
    """One container's CloudWatch Logs destination."""

    container: str
    group: str
    region: str | None
    prefix: str | None  # awslogs-stream-prefix

    def stream(self, task_id: str) -> str | None:
        """The stream of this container in task ``task_id``; None without a stream prefix."""
        return f"{self.prefix}/{self.container}/{task_id}" if self.prefix else None

    @property
    def stream_prefix(self) -> str | None:
        """What every stream of this container starts with (FilterLogEvents' logStreamNamePrefix)."""
        return f"{self.prefix}/{self.container}/" if self.prefix else None

    def as_dict(self) -> dict[str, Any]:
        return {"container": self.container, "group": self.group, "region": self.region, "stream_prefix": self.prefix}


def awslogs_of(td: Mapping[str, Any], container: str) -> AwsLogs | None:
    """The awslogs destination of ``container`` in task definition ``td``; None for another log driver."""
    for definition in td.get("containerDefinitions") or []:
        if definition.get("name") != container:
            continue
        config = definition.get("logConfiguration") or {}
        options = config.get("options") or {}
        if config.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
            return None
        return AwsLogs(
            container=container,
            group=str(options["awslogs-group"]),
            region=str(options["awslogs-region"]) if options.get("awslogs-region") else None,
            prefix=str(options["awslogs-stream-prefix"]) if options.get("awslogs-stream-prefix") else None,
        )
    return None


def log_driver_of(td: Mapping[str, Any], container: str) -> str | None:
    """The log driver ``container`` uses (``awslogs``, ``awsfirelens``...), or None when it has none."""
    for definition in td.get("containerDefinitions") or []:
        if definition.get("name") == container:
            driver = (definition.get("logConfiguration") or {}).get("logDriver")
            return str(driver) if driver else None
    return None
