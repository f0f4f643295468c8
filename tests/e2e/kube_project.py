"""End-to-end harness for the Kubernetes driver: the stand-in API server, a bot following its pods, the CLI."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.sandbox.bot import BotServer
from tests.e2e.harness import ACTOR, CONFIRMS
from tests.support.cli_env import run_opsctl, start_opsctl, subprocess_env
from tests.support.kube_api import DEPLOYMENT, NAMESPACE, KubeApiServer, kube_api_fixture


class KubeProject:
    """A project whose staging environment is the stand-in's Deployment; the CLI runs as a subprocess."""

    def __init__(self, path: Path, api: KubeApiServer, bot: BotServer, *, locks: dict[str, Any] | None = None) -> None:
        self.path = path
        self.api = api
        self.kubeconfig = api.kubeconfig(path / "kubeconfig")
        self.write(locks=locks)
        self.env = subprocess_env(ACTOR, drop=("KUBECONFIG",))
        self.bot = bot

    def write(self, *, locks: dict[str, Any] | None = None, **platform: Any) -> None:
        settings = {
            "kind": "kubernetes",
            "kubeconfig": str(self.kubeconfig),
            "context": "hvb-staging",
            "namespace": NAMESPACE,
            "deployment": DEPLOYMENT,
            "container": "bot",
            "poll_interval": "0.1s",
            **platform,
        }
        health = {"base_url": self.bot_url, "synthetic": {"path": "/api/messages", "json": {"text": "hi"}}}
        config: dict[str, Any] = {
            "service": "hvb",
            "environments": {"staging": {"platform": settings, "health": health, "verify": {"image": False}}},
            "slo": {"error_window": "1s"},
        }
        if locks:
            config["locks"] = locks
        (self.path / "opsctl.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    bot_url = ""

    def lease_locks(self) -> dict[str, Any]:
        return {
            "backend": "kubernetes",
            "namespace": NAMESPACE,
            "kubeconfig": str(self.kubeconfig),
            "context": "hvb-staging",
            "ttl": "10m",
        }

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run_opsctl(self.path, self.env, *args, timeout=timeout)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return start_opsctl(self.path, self.env, *args)

    def deploy_args(self, image: str, *extra: str) -> tuple[str, ...]:
        return ("deploy", "staging", "--image", image, *CONFIRMS, "--timeout", "30s", *extra)

    def deploy(self, image: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run(*self.deploy_args(image, *extra))

    def json(self, *args: str) -> Any:
        done = self.run("--json", *args)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)

    def events(self) -> list[dict[str, Any]]:
        path = self.path / ".opsctl" / "audit.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


kube_api = kube_api_fixture


@pytest.fixture
def bot(kube_api: KubeApiServer) -> Iterator[BotServer]:
    """The bot behind the Service: it serves the tag of the image most ready pods run."""
    server = BotServer(version=lambda: kube_api.ready_image().rsplit(":", 1)[-1]).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def project(tmp_path: Path, kube_api: KubeApiServer, bot: BotServer) -> KubeProject:
    KubeProject.bot_url = bot.url
    return KubeProject(tmp_path, kube_api, bot)
