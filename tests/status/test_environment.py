"""environment_status (the core of `opsctl status ENV`) on moto's ECS, and the command's views of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opsctl.cli.app import app
from opsctl.cli.application import Application
from opsctl.locks.base import LockInfo
from opsctl.locks.file import FileLockBackend
from opsctl.platforms.base import Release
from opsctl.status.environment import EnvironmentStatus, environment_status
from opsctl.workspace import Workspace
from tests.support import moto_server as aws_support
from tests.support.context import base_config, make_workspace, write_config
from tests.support.moto_server import EcsService

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service

DESCRIBED = "ecs hvb-staging/hotel-voice-bot (eu-west-1)"
NO_REGION = "no AWS region: set platform.region in opsctl.yaml, or AWS_REGION / AWS_DEFAULT_REGION"
KEYS = ["env", "current", "warnings", "platform_error", "platform", "last_verified", "lock", "runs", "audit_mirror"]


def config_for(svc: EcsService, **platform: Any) -> dict[str, Any]:
    config = base_config()
    config["environments"]["staging"]["platform"] = svc.platform_config(**platform)
    return config


def verified_deploy(ws: Workspace, run: str, image: str, release_id: str) -> None:
    journal = ws.journal(run, "deploy", "staging")
    journal.event("run", "started", params={"image": image})
    journal.event("run", "succeeded", release_after={"id": release_id, "image": image}, verified=True)


def cli(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["--config", str(config), *args], obj=Application(interactive=False), env={"COLUMNS": "250"}
    )
    return result.exit_code, result.stdout


def test_a_quiet_environment(tmp_path: Path, ecs_service: EcsService) -> None:
    ws = make_workspace(tmp_path, config_for(ecs_service))
    status = environment_status(ws, "staging")
    assert isinstance(status, EnvironmentStatus)
    assert status.current == ws.platform("staging").current_release()
    assert (status.env, status.platform, status.platform_error) == ("staging", DESCRIBED, None)
    assert (status.warnings, status.last_verified, status.lock, status.runs, status.audit_mirror) == (
        (),
        None,
        None,
        (),
        None,
    )
    as_dict = status.as_dict()
    assert list(as_dict) == KEYS
    current = as_dict["current"]
    assert {k: current[k] for k in ("id", "image", "tag")} == {"id": "hvb:1", "image": "hvb:1.7.0", "tag": "1.7.0"}
    assert {k: v for k, v in as_dict.items() if k != "current"} == {
        "env": "staging",
        "warnings": [],
        "platform_error": None,
        "platform": DESCRIBED,
        "last_verified": None,
        "lock": None,
        "runs": [],
        "audit_mirror": None,
    }


def test_lock_history_and_last_verified_release(tmp_path: Path, ecs_service: EcsService) -> None:
    ws = make_workspace(tmp_path, config_for(ecs_service))
    verified_deploy(ws, "r-1", "hvb:1.7.0", "hvb:1")
    holder = LockInfo("staging", "r-2", "bob@example.com", "deploy", "r-2", "build-7", 4242, "2026-11-27T10:00:00Z")
    handle = FileLockBackend(ws.state_dir / "locks").acquire(holder)
    try:
        status = environment_status(ws, "staging").as_dict()
    finally:
        handle.release()
    assert status["last_verified"] == {"id": "hvb:1", "image": "hvb:1.7.0", "run": "r-1"}
    assert status["lock"] == {
        **holder.as_dict(),
        "describe": "run r-2 (deploy) by bob@example.com on build-7, pid 4242 since 2026-11-27T10:00:00Z",
    }
    assert [(r["run"], r["status"], r["image"]) for r in status["runs"]] == [("r-1", "succeeded", "hvb:1.7.0")]


def test_only_the_last_ten_runs_are_shown(tmp_path: Path, ecs_service: EcsService) -> None:
    ws = make_workspace(tmp_path, config_for(ecs_service))
    for n in range(12):
        verified_deploy(ws, f"r-{n:02d}", "hvb:1.7.0", "hvb:1")
    runs = environment_status(ws, "staging").runs
    assert [r.run for r in runs] == [f"r-{n:02d}" for n in range(2, 12)]


def test_a_platform_that_cannot_be_read_still_shows_the_rest(
    tmp_path: Path, ecs_service: EcsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path, config_for(ecs_service, region=None))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    verified_deploy(ws, "r-1", "hvb:1.7.0", "hvb:1")
    status = environment_status(ws, "staging")
    assert (status.platform, status.current, status.platform_error) == ("ecs", None, NO_REGION)
    assert status.last_verified is not None
    assert status.as_dict()["platform"] == "ecs"


def test_a_lock_store_that_is_down_is_a_warning(tmp_path: Path, ecs_service: EcsService) -> None:
    config = config_for(ecs_service)
    config["locks"] = {"backend": "dynamodb", "table": "opsctl-locks", "endpoint_url": ecs_service.endpoint_url}
    ws = make_workspace(tmp_path, config)
    status = environment_status(ws, "staging")  # moto has no such table
    assert status.current is not None
    assert status.lock is None
    assert status.warnings == (
        "lock state unknown: DynamoDB table opsctl-locks not found; create it with `opsctl lock init` "
        "(or `opsctl lock init --print` for CloudFormation)",
    )


def test_status_reads_nothing_into_the_audit_log(tmp_path: Path, ecs_service: EcsService) -> None:
    ws = make_workspace(tmp_path, config_for(ecs_service))
    environment_status(ws, "staging")
    assert not ws.audit.path.exists() or ws.audit.path.read_bytes() == b""


def test_the_json_view_is_the_status_as_dict(tmp_path: Path, ecs_service: EcsService) -> None:
    path = write_config(tmp_path, config_for(ecs_service))
    code, out = cli(path, "--json", "status", "staging")
    assert code == 0, out
    shown = json.loads(out)
    assert list(shown) == KEYS
    assert shown == json.loads(json.dumps(environment_status(Workspace.load(str(path)), "staging").as_dict()))


def test_the_human_view(tmp_path: Path, ecs_service: EcsService) -> None:
    path = write_config(tmp_path, config_for(ecs_service))
    verified_deploy(Workspace.load(str(path)), "r-1", "hvb:1.7.0", "hvb:1")
    code, out = cli(path, "--no-color", "status", "staging")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[:4] == [
        f"staging · {DESCRIBED}",
        "  running  hvb:1 (hvb:1.7.0)",
        "  verified hvb:1 (hvb:1.7.0)",
        "  lock     free",
    ]
    assert any("r-1" in line and "succeeded" in line for line in lines[4:])


def test_the_human_view_of_an_unreadable_platform(
    tmp_path: Path, ecs_service: EcsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, config_for(ecs_service, region=None))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    code, out = cli(path, "--no-color", "status", "staging")
    assert code == 0, out
    assert out.splitlines()[:4] == [
        "staging · ecs",
        f"  running  unknown: {NO_REGION}",
        "  verified -",
        "  lock     free",
    ]
    assert "no runs recorded yet" in out


def test_release_as_dict_is_what_current_shows(tmp_path: Path, ecs_service: EcsService) -> None:
    ws = make_workspace(tmp_path, config_for(ecs_service))
    current = environment_status(ws, "staging").current
    assert isinstance(current, Release)
    assert environment_status(ws, "staging").as_dict()["current"] == current.as_dict()
