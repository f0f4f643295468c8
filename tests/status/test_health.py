"""probe_environment (the core of `opsctl health ENV`) and the command itself, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsctl.cli.app import app
from opsctl.cli.application import Application
from opsctl.engine.outcome import Status
from opsctl.errors import BadInput
from opsctl.health.context import EnvLook
from opsctl.platforms.base import Release
from opsctl.sandbox.bot import BotServer
from opsctl.status.health import probe_environment, probe_named_environment
from tests.health import helpers
from tests.health.helpers import FakePlatform, config_for, ctx_for
from tests.support import moto_server as aws_support
from tests.support.context import make_ctx, make_workspace, write_config
from tests.support.moto_server import EcsService

bot = helpers.bot
moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service

PROBES = ["live", "version", "dependencies", "synthetic", "latency", "error rate", "db pool", "monitoring"]


def test_healthy_environment(tmp_path: Path, bot: BotServer) -> None:
    ctx = ctx_for(tmp_path, bot.url)
    results = probe_environment(ctx, FakePlatform("hvb:1.8.0").current_release)
    assert [r.probe for r in results] == PROBES
    verdicts = {r.probe: r.verdict for r in results}
    assert verdicts.pop("synthetic") is Status.WARNED  # none configured
    assert set(verdicts.values()) == {Status.PASSED}
    rows = {r.probe: (r.value, r.target) for r in results}
    assert rows["version"] == ("1.8.0 (3/3)", "1.8.0")
    assert rows["dependencies"] == ("database ok, openai ok, whatsapp ok", "database, openai, whatsapp ok")
    assert rows["error rate"] == ("0.00%", "<= 1.00%")
    assert rows["db pool"] == ("20%", "<= 80%")
    assert rows["latency"][1] == "p95 <= 2000ms"
    assert all(r.ok for r in results)


def test_failures_are_rows_not_exceptions(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(dependencies={"database": "down"}, pool_in_use=19)
    ctx = ctx_for(tmp_path, bot.url)
    results = {r.probe: r for r in probe_environment(ctx, FakePlatform("hvb:1.9.0").current_release)}
    assert results["version"].summary == "3 of 3 probes served 1.8.0, expected 1.9.0"
    assert results["dependencies"].summary == "dependency database is down"
    assert results["db pool"].summary == "DB pool 19/20 in use (95%) > 80%"
    assert not results["version"].ok
    assert results["live"].ok


def test_unknown_platform_state_is_a_failed_version_row(tmp_path: Path, bot: BotServer) -> None:
    ctx = ctx_for(tmp_path, bot.url)

    def broken() -> Release:
        raise BadInput("no AWS credentials found")

    version = probe_environment(ctx, broken, only=("version",))
    assert [(r.probe, r.verdict, r.summary) for r in version] == [
        ("version", Status.FAILED, "cannot tell which release runs: no AWS credentials found")
    ]


def test_no_health_config_is_bad_input(tmp_path: Path) -> None:
    config = config_for("http://bot.test")
    del config["environments"]["production"]["health"]
    with pytest.raises(BadInput):
        probe_environment(make_ctx(tmp_path, config, env="production"), FakePlatform().current_release)


def run_cli(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), obj=Application(config_path=str(config), interactive=False))
    return result.exit_code, result.stdout


def test_health_command_against_ecs_and_the_bot(tmp_path: Path, ecs_service: EcsService) -> None:
    with BotServer(version="1.7.0") as server:  # the image moto's ECS service runs: hvb:1.7.0
        config = config_for(server.url)
        config["environments"]["staging"]["platform"] = ecs_service.platform_config()
        path = write_config(tmp_path, config)
        code, out = run_cli(path, "--json", "health", "staging")
        assert code == 0, out
        report = json.loads(out)
        assert report["ok"] is True
        assert [p["probe"] for p in report["probes"]] == PROBES
        assert report["probes"][1] == {
            "probe": "version",
            "value": "1.7.0 (3/3)",
            "target": "1.7.0",
            "verdict": "passed",
            "summary": "3 of 3 probes served 1.7.0",
        }

        server.configure(version="1.6.0")
        code, out = run_cli(path, "--no-color", "health", "staging")
        assert code == 1
        assert "health of staging" in out
        assert "version: 3 of 3 probes served 1.6.0, expected 1.7.0" in out
        audit = tmp_path / ".opsctl" / "audit.jsonl"
        assert not audit.exists() or audit.read_bytes() == b""  # an ad-hoc look is no run


def test_the_named_environment_is_probed_through_the_workspace_without_a_journal(
    tmp_path: Path, ecs_service: EcsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    with BotServer(version="1.7.0") as server:
        config = config_for(server.url)
        config["environments"]["staging"]["platform"] = ecs_service.platform_config()
        ws = make_workspace(tmp_path, config)
        rows = {r.probe: r for r in probe_named_environment(ws, "staging")}
        assert (rows["version"].verdict, rows["version"].summary) == (Status.PASSED, "3 of 3 probes served 1.7.0")
        assert not ws.audit.path.exists() or ws.audit.path.read_bytes() == b""

        config["environments"]["staging"]["platform"] = ecs_service.platform_config(region=None)
        monkeypatch.delenv("AWS_DEFAULT_REGION")
        ws = make_workspace(tmp_path, config)
        rows = {r.probe: r for r in probe_named_environment(ws, "staging")}
        assert (rows["version"].verdict, rows["version"].summary) == (
            Status.FAILED,
            "cannot tell which release runs: no AWS region: set platform.region in opsctl.yaml, "
            "or AWS_REGION / AWS_DEFAULT_REGION",
        )
        assert rows["live"].ok


def test_the_ad_hoc_context_is_a_probe_context(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    ctx = EnvLook(ws.config, "staging", ws.redactor, ws.clock)
    assert ctx.env is ws.config.environments["staging"]
    assert not ctx.cancel.is_set()
    with pytest.raises(BadInput) as caught:
        _ = EnvLook(ws.config, "qa", ws.redactor, ws.clock).env
    assert str(caught.value) == f"unknown environment 'qa' (defined in {tmp_path / 'opsctl.yaml'}: staging, production)"
