"""A Fly environment deploys, verifies and rolls back through the same runbooks and commands as ECS.

The fake Fly Machines API and the sandbox bot run on 127.0.0.1; the bot serves
the tag of the image most machines run, and reports openai down for "-bad" images.
The CLI runs as a real subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.sandbox.bot import BotServer
from tests.e2e.harness import ACTOR, CONFIRMS, single_error_line
from tests.support.cli_env import run_opsctl
from tests.support.fly_api import TOKEN, FakeFlyApi, fly_api_fixture

fly_api = fly_api_fixture
OLD = "registry.fly.io/hvb:1.7.0"


def _majority_tag(api: FakeFlyApi) -> str:
    image = Counter(api.images().values()).most_common(1)[0][0]
    return image.rsplit(":", 1)[-1]


@pytest.fixture
def bot(fly_api: FakeFlyApi) -> Iterator[BotServer]:
    server = BotServer(version=lambda: _majority_tag(fly_api)).start()
    try:
        yield server
    finally:
        server.stop()


class FlyProject:
    def __init__(self, path: Path, api: FakeFlyApi, bot: BotServer) -> None:
        self.path = path
        platform = {
            "kind": "fly",
            "app": api.app,
            "api_url": api.url,
            "poll_interval": "0.02s",
            "lease_ttl": "60s",
            "strategy": "rolling",
        }
        health = {
            "base_url": bot.url,
            "synthetic": {"path": "/api/messages", "json": {"text": "hi"}},
            "version_probes": 2,
        }
        config = {
            "service": "hvb",
            # No registry is reachable from tests: the image family of `opsctl verify` is off.
            "environments": {"production": {"platform": platform, "health": health, "verify": {"image": False}}},
            "slo": {"error_window": "1s"},
        }
        (path / "opsctl.yaml").write_text(yaml.safe_dump(config))

    def run(self, *args: str, token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLY_", "OPSCTL_"))}
        env.update(OPSCTL_ACTOR=ACTOR, NO_COLOR="1")
        if token is not None:
            env["FLY_API_TOKEN"] = token
        return run_opsctl(self.path, env, *args)

    def json(self, *args: str) -> Any:
        done = self.run("--json", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def project(tmp_path: Path, fly_api: FakeFlyApi, bot: BotServer) -> FlyProject:
    return FlyProject(tmp_path, fly_api, bot)


def test_rolling_deploy_then_rollback_like_ecs(project: FlyProject, fly_api: FakeFlyApi) -> None:
    done = project.run("deploy", "production", "--image", "registry.fly.io/hvb:1.8.0", *CONFIRMS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(fly_api.images().values()) == {"registry.fly.io/hvb:1.8.0"}
    releases = project.json("releases", "production")
    assert releases[0]["image"] == "registry.fly.io/hvb:1.8.0"
    assert releases[0]["verdict"] == "verified"

    rollback = project.run("rollback", "production", "--to", OLD)
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert set(fly_api.images().values()) == {OLD}
    assert project.run("audit", "verify").returncode == 0


def test_canary_with_a_bad_image_is_restored_and_exits_1(project: FlyProject, fly_api: FakeFlyApi) -> None:
    fly_api.fail_image("bad", mode="crashloop")
    done = project.run(
        "deploy", "production", "--image", "registry.fly.io/hvb:1.9.0-bad", "--strategy", "canary", *CONFIRMS
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert set(fly_api.images().values()) == {OLD}, "no machine may stay on the bad image"
    runs = project.json("runs")
    assert runs[0]["status"] == "rolled_back"  # newest first
    assert not any(u for u in fly_api.updates("m3") if "bad" in json.dumps(u)), "canary: others untouched"


def test_lease_held_by_someone_else_exits_4(project: FlyProject, fly_api: FakeFlyApi) -> None:
    fly_api.hold_lease("m2", owner="alice@example.com")
    done = project.run("deploy", "production", "--image", "registry.fly.io/hvb:1.8.0", *CONFIRMS)
    assert done.returncode == 4, done.stdout + done.stderr
    line = single_error_line(done.stderr, "m2", "alice@example.com")
    assert line.startswith("error: ")
    assert set(fly_api.images().values()) == {OLD}
    assert fly_api.leases().get("m1") is None, "our leases are released"


def test_missing_token_names_the_env_var_and_never_prints_the_token(project: FlyProject) -> None:
    done = project.run("deploy", "production", "--image", "registry.fly.io/hvb:1.8.0", *CONFIRMS, token=None)
    assert done.returncode == 2
    single_error_line(done.stderr, "FLY_API_TOKEN is not set")
    ok = project.run("deploy", "production", "--image", "registry.fly.io/hvb:1.8.0", *CONFIRMS)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    audit = (project.path / ".opsctl" / "audit.jsonl").read_text()
    assert TOKEN not in ok.stdout + ok.stderr + audit
