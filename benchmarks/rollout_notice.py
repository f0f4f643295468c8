"""Failure noticed within one poll: time from ECS reporting a failure to opsctl's verdict (issue 19, issue 14).

Runs the real ECS driver with its default config (steady 2 s polls) against a
moto server on 127.0.0.1. Each rollout fails T seconds after its UpdateService
(T = 3, 13, 45), in two ways: the deployment's rolloutState turns FAILED, or a
task of the new deployment stops (CannotPullContainerError, visible through
ListTasks / DescribeTasks). moto cannot fail a rollout, so the answers are
rewritten by botocore handlers on the driver's own clients, as the tests do.
The six rollouts run at once, on six services. Prints one row per rollout and,
for comparison, when the old schedule (5 s, backing off x1.5 to 30 s) would
have looked; exits 1 when any verdict took longer than 5 s.

    /work/venv/bin/python benchmarks/rollout_notice.py
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opsctl.config import EcsPlatformConfig
from opsctl.platforms.base import RolloutOptions, RolloutStatus
from opsctl.platforms.ecs import EcsPlatform
from opsctl.sandbox.aws import MotoSandbox
from tests.support.ecs_tasks import inject_tasks, pull_failure
from tests.support.moto_server import MotoServer, create_ecs_service

FAIL_AFTER = (3.0, 13.0, 45.0)
KINDS = ("rollout FAILED", "task stopped")
TARGET = 5.0
NEW = "ecs-svc/5555000011112222"


def old_schedule_notice(fail_at: float, first: float = 5.0, factor: float = 1.5, cap: float = 30.0) -> float:
    """When the previous follower (first delay 5 s, x1.5 up to 30 s) polled first after ``fail_at``."""
    now, delay = 0.0, first
    while now < fail_at:
        now += delay
        delay = min(delay * factor, cap)
    return now - fail_at


class Scripted:
    """One rollout that fails ``fail_at`` seconds after its UpdateService, the ``kind`` way."""

    def __init__(self, platform: EcsPlatform, kind: str, fail_at: float) -> None:
        self.platform, self.kind, self.fail_at = platform, kind, fail_at
        self.updated_at: float | None = None
        self.polls = 0
        platform.write_client.meta.events.register("after-call.ecs.UpdateService", self._after_update)
        platform.client.meta.events.register("after-call.ecs.DescribeServices", self._after_describe)
        inject_tasks(platform.client, self._tasks)

    @property
    def failing(self) -> bool:
        return self.updated_at is not None and time.monotonic() >= self.updated_at + self.fail_at

    def _deployment(self, td: str) -> dict[str, Any]:
        failed = self.failing
        state = "FAILED" if failed and self.kind == "rollout FAILED" else "IN_PROGRESS"
        return {
            "id": NEW,
            "status": "PRIMARY",
            "taskDefinition": td,
            "desiredCount": 1,
            "runningCount": 0,
            "pendingCount": 0 if failed else 1,
            "failedTasks": 1 if failed else 0,
            "rolloutState": state,
            "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start." if state == "FAILED" else "",
        }

    def _after_update(self, parsed: dict[str, Any], **_: Any) -> None:
        self.updated_at = time.monotonic()
        parsed["service"]["deployments"] = [self._deployment(parsed["service"]["taskDefinition"])]

    def _after_describe(self, parsed: dict[str, Any], **_: Any) -> None:
        if self.updated_at is not None and parsed.get("services"):
            self.polls += 1
            service = parsed["services"][0]
            service["deployments"] = [self._deployment(service["taskDefinition"])]

    def _tasks(self) -> list[dict[str, Any]]:
        if self.kind == "task stopped" and self.failing:
            return [pull_failure("0a1b2c3d", NEW, "hvb:2")]
        return []


def one(server: MotoServer, index: int, kind: str, fail_at: float, rows: list[tuple[Any, ...]]) -> None:
    service = create_ecs_service(server, cluster=f"bench-{index}", running=0)
    config = EcsPlatformConfig.model_validate(service.platform_config())  # defaults: 2 s polls
    platform = EcsPlatform.from_config(config)
    script = Scripted(platform, kind, fail_at)
    options = RolloutOptions(timeout=fail_at + 60, poll_interval=config.poll_interval)
    result = platform.deploy("hvb:1.9.0", options)
    verdict_at = time.monotonic()
    platform.close()
    assert script.updated_at is not None
    noticed = verdict_at - (script.updated_at + fail_at)
    rows.append((kind, fail_at, result.status, noticed, script.polls, old_schedule_notice(fail_at)))


def main() -> int:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ["MOTO_ECS_SERVICE_RUNNING"] = "0"
    sandbox = MotoSandbox()
    server = MotoServer(endpoint_url=sandbox.start())
    rows: list[tuple[Any, ...]] = []
    try:
        threads = [
            threading.Thread(target=one, args=(server, i, kind, at, rows))
            for i, (kind, at) in enumerate((k, t) for k in KINDS for t in FAIL_AFTER)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sandbox.stop()
    print(f"{'failure':<16} {'after':>6} {'verdict':<8} {'noticed':>9} {'polls':>6} {'old schedule':>13}")
    worst = 0.0
    for kind, at, status, noticed, polls, old in sorted(rows, key=lambda r: (r[0], r[1])):
        worst = max(worst, noticed)
        ok = status is RolloutStatus.FAILED
        print(f"{kind:<16} {at:>5.0f}s {status.value if ok else status:<8} {noticed:>8.2f}s {polls:>6} {old:>12.2f}s")
    print(f"worst: {worst:.2f}s (target <= {TARGET:.0f}s)")
    return 0 if worst <= TARGET and all(r[2] is RolloutStatus.FAILED for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
