"""End-to-end harness: moto ECS + the sandbox bot + a project folder, and the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.sandbox.bot import Behaviour, BotServer
from tests.support.cli_env import CONFIRMS, run_opsctl, start_opsctl
from tests.support.cli_env import subprocess_env as cli_env
from tests.support.moto_server import EcsService, MotoServer

ACTOR = "e2e@example.com"


class TagBot(BotServer):
    """The sandbox bot serving the tag of the image the ECS service runs; openai is down for '-bad' tags."""

    def __init__(self, service: EcsService) -> None:
        self._service = service
        self._client = service.client()
        self._cached = (0.0, "")
        super().__init__(version=self.running_tag)
        self._behaviour = replace(self._behaviour, bad_tag_unhealthy=False)
        self._initial = self._behaviour

    def running_tag(self) -> str:
        now = time.monotonic()
        if now - self._cached[0] > 0.2:
            self._cached = (now, self._read_tag())
        return self._cached[1]

    def _read_tag(self) -> str:
        svc = self._client.describe_services(cluster=self._service.cluster, services=[self._service.service])
        td = self._client.describe_task_definition(taskDefinition=svc["services"][0]["taskDefinition"])
        image = next(
            c["image"] for c in td["taskDefinition"]["containerDefinitions"] if c["name"] == self._service.container
        )
        return image.rsplit(":", 1)[-1]

    @property  # type: ignore[override]
    def behaviour(self) -> Behaviour:
        b = self._behaviour
        if "bad" in self.running_tag():
            return replace(b, dependencies={**b.dependencies, "openai": "down"})
        return b

    @behaviour.setter
    def behaviour(self, value: Behaviour) -> None:
        self._behaviour = value


@dataclass
class Project:
    path: Path
    env: dict[str, str]
    service: EcsService
    bot: TagBot

    def run(
        self, *args: str, timeout: float = 60, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = run_opsctl(self.path, env or self.env, *args, timeout=timeout)
        log = os.environ.get("OPSCTL_E2E_LOG")  # debugging aid: append every CLI call's output to this file
        if log:
            with open(log, "a", encoding="utf-8") as out:
                out.write(f"$ opsctl {' '.join(args)}\n[exit {done.returncode}]\n{done.stdout}\n{done.stderr}\n")
        return done

    def start(self, *args: str) -> subprocess.Popen[str]:
        return start_opsctl(self.path, self.env, *args)

    def deploy(self, image: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run("deploy", "staging", "--image", image, *CONFIRMS, "--timeout", "20s", *extra)

    def json(self, *args: str) -> Any:
        done = self.run("--json", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def events(self, run: str | None = None) -> list[dict[str, Any]]:
        args = ["--json", "audit", "show", "--limit", "100000"] + (["--run", run] if run else [])
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        *events, summary = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        assert summary == {"event": "audit.show.finished", "ok": True, "exit_code": 0, "events": len(events)}
        return events

    def runs(self) -> list[dict[str, Any]]:
        return self.json("runs", "--env", "staging")

    def task_definition(self) -> str:
        client = self.service.client()
        return client.describe_services(cluster=self.service.cluster, services=[self.service.service])["services"][0][
            "taskDefinition"
        ]

    def image(self) -> str:
        client = self.service.client()
        td = client.describe_task_definition(taskDefinition=self.task_definition())["taskDefinition"]
        return next(c["image"] for c in td["containerDefinitions"] if c["name"] == self.service.container)


def write_config(path: Path, service: EcsService, bot_url: str, **env_extra: Any) -> None:
    staging: dict[str, Any] = {
        "platform": service.platform_config(poll_interval="0.2s"),
        "health": {"base_url": bot_url, "synthetic": {"path": "/api/messages", "json": {"text": "hi"}}},
        **env_extra,
    }
    config = {"service": "hotel-voice-bot", "environments": {"staging": staging}}
    (path / "opsctl.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def subprocess_env(aws: MotoServer) -> dict[str, str]:
    return cli_env(ACTOR, AWS_ENDPOINT_URL=aws.endpoint_url)


@pytest.fixture
def project(tmp_path: Path, ecs_service: EcsService, aws: MotoServer) -> Iterator[Project]:
    with TagBot(ecs_service) as bot:
        write_config(tmp_path, ecs_service, bot.url)
        yield Project(tmp_path, subprocess_env(aws), ecs_service, bot)


def wait_for(predicate: Any, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def interrupt(process: subprocess.Popen[str], sig: int = signal.SIGINT, timeout: float = 20) -> tuple[str, str]:
    process.send_signal(sig)
    return process.communicate(timeout=timeout)


def single_error_line(stderr: str, *fragments: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, stderr
    for fragment in fragments:
        assert fragment in stderr, stderr
    return errors[0]


def step_ids(events: Sequence[dict[str, Any]], runbook: str) -> list[str]:
    return [str(e["step"]) for e in events if e.get("runbook") == runbook]


def make_project(path: Path, service: EcsService, aws: MotoServer, bot: TagBot, **env_extra: Any) -> Project:
    write_config(path, service, bot.url, **env_extra)
    return Project(path, subprocess_env(aws), service, bot)


def audit_text(project: Project) -> str:
    path = project.path / ".opsctl" / "audit.jsonl"
    return path.read_text() if path.exists() else ""


def git_repo(path: Path) -> None:
    """Make ``path`` a clean git repository whose HEAD is pushed to a local bare upstream."""
    git = shutil.which("git")
    assert git, "git is needed for this test"
    remote = path.parent / f"{path.name}-remote.git"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "e2e",
        "GIT_AUTHOR_EMAIL": ACTOR,
        "GIT_COMMITTER_NAME": "e2e",
        "GIT_COMMITTER_EMAIL": ACTOR,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    for args, cwd in (
        (["init", "-q", "--bare", str(remote)], path.parent),
        (["init", "-q", "-b", "main"], path),
        (["add", "-A"], path),
        (["commit", "-q", "-m", "project"], path),
        (["remote", "add", "origin", str(remote)], path),
        (["push", "-q", "-u", "origin", "main"], path),
    ):
        subprocess.run([git, *args], cwd=cwd, env=env, check=True, capture_output=True)
