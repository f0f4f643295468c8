"""make_platform(env_config, redactor) and the workspace's one driver per environment."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from opsctl.errors import BadInput
from opsctl.platforms import make_platform
from opsctl.platforms.base import Platform
from opsctl.platforms.ecs import EcsPlatform
from opsctl.platforms.fly import FlyPlatform
from opsctl.values.redact import Redactor
from opsctl.workspace import Workspace
from tests.support import moto_server as aws_support
from tests.support.context import base_config, make_workspace
from tests.support.moto_server import EcsService

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service

FLY_TOKEN = "fo1_factory-test-token-0123456789"
NO_REGION = "no AWS region: set platform.region in opsctl.yaml, or AWS_REGION / AWS_DEFAULT_REGION"


def ecs_workspace(tmp_path: Path, svc: EcsService) -> Workspace:
    config = base_config()
    config["environments"]["staging"]["platform"] = svc.platform_config()
    return make_workspace(tmp_path, config)


def test_ecs_config_makes_the_ecs_driver(tmp_path: Path, ecs_service: EcsService) -> None:
    ws = ecs_workspace(tmp_path, ecs_service)
    platform = make_platform(ws.config.environment("staging"), Redactor())
    assert isinstance(platform, EcsPlatform)
    assert platform.describe() == "ecs hvb-staging/hotel-voice-bot (eu-west-1)"
    assert platform.current_release().image == "hvb:1.7.0"


def test_fly_config_makes_the_fly_driver_and_the_redactor_learns_its_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", FLY_TOKEN)
    ws = make_workspace(tmp_path)
    redactor = Redactor()
    platform = make_platform(ws.config.environment("production"), redactor)
    assert isinstance(platform, FlyPlatform)
    assert platform.describe() == "fly app hvb (http://127.0.0.1:9)"
    assert FLY_TOKEN not in redactor.text(f"Authorization: Bearer {FLY_TOKEN}")


def test_the_workspace_makes_one_driver_per_environment(tmp_path: Path, ecs_service: EcsService) -> None:
    ws = ecs_workspace(tmp_path, ecs_service)
    first = ws.platform("staging")
    assert ws.platform("staging") is first
    one = ws.context(ws.journal(ws.new_run_id(), "deploy", "staging"), "staging")
    other = ws.context(ws.journal(ws.new_run_id(), "rollback", "staging"), "staging")
    assert one.platform() is first
    assert other.platform() is first


def test_concurrent_first_use_makes_one_driver(tmp_path: Path, ecs_service: EcsService) -> None:
    ws = ecs_workspace(tmp_path, ecs_service)
    seen: list[Platform] = []
    start = threading.Barrier(4)

    def ask() -> None:
        start.wait(timeout=10)
        seen.append(ws.platform("staging"))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(seen) == 4
    assert all(platform is seen[0] for platform in seen)


def test_an_unknown_environment_is_bad_input(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    with pytest.raises(BadInput) as caught:
        ws.platform("qa")
    assert str(caught.value) == f"unknown environment 'qa' (defined in {tmp_path / 'opsctl.yaml'}: staging, production)"


def test_a_driver_that_cannot_be_made_is_not_remembered(
    tmp_path: Path, ecs_service: EcsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = base_config()
    config["environments"]["staging"]["platform"] = ecs_service.platform_config(region=None)
    ws = make_workspace(tmp_path, config)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(BadInput) as caught:
        ws.platform("staging")
    assert str(caught.value) == NO_REGION
    monkeypatch.setenv("AWS_DEFAULT_REGION", ecs_service.region)
    assert ws.platform("staging").current_release().image == "hvb:1.7.0"


def test_a_context_without_an_environment_has_no_platform(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    ctx = ws.context(ws.journal(ws.new_run_id(), "checklist:x", None), None)
    with pytest.raises(BadInput) as caught:
        ctx.platform()
    assert str(caught.value) == "this action needs an environment; pass --env ENV"
