"""A run whose lock is lost while it holds it (broken, or taken over after expiry) changes nothing more."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from opsctl.errors import ExitCode, NeedsHuman
from opsctl.locks.file import FileLockBackend, FileLockHandle
from opsctl.runs import RunOptions, execute
from opsctl.workspace import Workspace
from tests.support import moto_server as aws_support
from tests.support.moto_server import EcsService

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service

RUNBOOK = """title: Deploy (plan and rollout only)
change_type: standard
steps:
  - {id: plan, title: Plan, uses: platform.plan}
  - {id: deploy, title: Roll out, uses: platform.deploy}
"""


def test_a_lost_lock_stops_the_run_before_its_next_change(
    tmp_path: Path, ecs_service: EcsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "deploy.yaml").write_text(RUNBOOK)
    platform = ecs_service.platform_config(poll_interval="0.1s")
    (tmp_path / "opsctl.yaml").write_text(
        yaml.safe_dump({"service": "hvb", "environments": {"staging": {"platform": platform}}})
    )
    acquire = FileLockBackend.acquire

    def acquire_then_lose(self: FileLockBackend, info: object) -> FileLockHandle:
        handle = acquire(self, info)  # type: ignore[arg-type]
        handle.lost = True  # as a DynamoDB heartbeat does when someone broke or took over the lock
        assert isinstance(handle, FileLockHandle)
        return handle

    monkeypatch.setattr(FileLockBackend, "acquire", acquire_then_lose)
    before = ecs_service.client().describe_services(cluster=ecs_service.cluster, services=[ecs_service.service])
    ws = Workspace.load(str(tmp_path / "opsctl.yaml"), actor="dev@example.com")

    with pytest.raises(NeedsHuman) as raised:
        execute(ws, "deploy", "staging", {"image": "hvb:1.8.0", "timeout": 30}, RunOptions())

    assert raised.value.exit_code is ExitCode.NEEDS_HUMAN
    assert str(raised.value).startswith("lost the lock on staging before step deploy: it was broken or taken over")
    after = ecs_service.client().describe_services(cluster=ecs_service.cluster, services=[ecs_service.service])
    assert after["services"][0]["taskDefinition"] == before["services"][0]["taskDefinition"]
    statuses = [e["status"] for e in ws.audit.events() if e.get("step") == "run"]
    assert statuses == ["started", "needs_human"]
