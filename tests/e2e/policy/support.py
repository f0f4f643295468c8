"""The outside world of the change-management tests, each part real and local.

- a project folder that is a real git repository (gitpython) pushed to a bare
  upstream, holding an opsctl.yaml with ECS staging + protected ECS production
  on moto and the sandbox bot of each environment;
- :class:`Receiver`, a real HTTP server on 127.0.0.1 that records every
  request: it stands in for Slack, PagerDuty, a generic webhook and GitHub;
- the CLI run in-process with ``typer.testing.CliRunner`` and an injected
  :class:`~opsctl.cli.application.Application` (actor, clock).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import git
import yaml
from click.testing import Result
from typer.testing import CliRunner

from opsctl.cli.app import app
from opsctl.cli.application import Application
from tests.e2e.harness import TagBot
from tests.support.cli_env import CONFIRMS
from tests.support.moto_server import EcsService
from tests.support.servers import send, serve_in_thread, stop_serving, url_of

ACTOR = "dev@example.com"
APPROVER = "lead@example.com"
# The hot-patch runbook's manual items (an id it does not have is bad input).
HOTPATCH_CONFIRMS = ("--confirm", "tests-confirmed", "--confirm", "performance-tests")
HOLIDAY = {"from": "2026-12-24T00:00:00Z", "to": "2026-12-27T00:00:00Z", "reason": "holiday freeze"}
HOLIDAY_SPAN = "2026-12-24T00:00:00+00:00 to 2026-12-27T00:00:00+00:00"
IN_FREEZE = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
OUTSIDE_FREEZE = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)

# A project's own checklists/pre-deploy.yaml that checks nothing at all.
MINIMAL_PRE_DEPLOY = """\
title: Pre-deployment checklist
items:
  - id: nothing
    title: Nothing to check here
    uses: command
    with:
      argv: ["true"]
"""


class ServiceBot(TagBot):
    """The e2e TagBot serving, on every request, the tag the ECS service runs at that very moment.

    TagBot caches the tag for 0.2 s and asks moto over HTTP; after a fast moto rollout that can
    send health.version into its 5 s retry, and ~150 probes per deploy cost an HTTP call each.
    This double reads the service straight from moto's in-process backend instead (the moto
    server runs in this process). opsctl itself still reaches moto only over HTTP.
    """

    def running_tag(self) -> str:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ecs.models import ecs_backends

        backend = ecs_backends[DEFAULT_ACCOUNT_ID][self._service.region]
        arn = backend.services[f"{self._service.cluster}:{self._service.service}"].task_definition
        definition = backend.describe_task_definition(str(arn))
        image = next(c["image"] for c in definition.container_definitions if c["name"] == self._service.container)
        return str(image).rsplit(":", 1)[-1]


# -- a receiver for webhooks, PagerDuty and GitHub -------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        path = self.path.split("?", 1)[0]
        receiver.record(Recorded(method, path, {k.lower(): v for k, v in self.headers.items()}, body))
        status, answer = receiver.answer(method, path)
        send(self, status, json.dumps(answer).encode())


@dataclass
class Receiver:
    """Records requests; GET answers come from :meth:`route`, POSTs answer ``post_status``."""

    post_status: int = 202
    requests: list[Recorded] = field(default_factory=list)
    routes: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _Server | None = None

    def __enter__(self) -> Receiver:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        serve_in_thread(self._server)
        return self

    def __exit__(self, *exc: object) -> None:
        stop_serving(self._server)

    @property
    def url(self) -> str:
        return url_of(self._server)

    def route(self, method: str, path: str, answer: Any, status: int = 200) -> None:
        self.routes[(method, path)] = (status, answer)

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def answer(self, method: str, path: str) -> tuple[int, Any]:
        if (method, path) in self.routes:
            return self.routes[(method, path)]
        if method == "POST":
            return self.post_status, {"status": "success" if self.post_status < 300 else "error"}
        return 404, {"message": "Not Found"}

    def posts(self, prefix: str) -> list[dict[str, Any]]:
        """JSON bodies POSTed under ``prefix``, in arrival order."""
        with self._lock:
            return [r.json for r in self.requests if r.method == "POST" and r.path.startswith(prefix)]


# -- the project ----------------------------------------------------------------------------------


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class Project:
    """A project folder (a clean git repo on main, pushed) with an opsctl.yaml for moto staging + production."""

    path: Path
    staging: EcsService
    production: EcsService
    staging_bot: ServiceBot
    production_bot: ServiceBot
    repo: git.Repo = field(init=False)

    @property
    def config_path(self) -> Path:
        return self.path / "opsctl.yaml"

    @property
    def audit_path(self) -> Path:
        return self.path / ".opsctl" / "audit.jsonl"

    def setup(self) -> None:
        self.path.mkdir()
        remote = self.path.parent / "remote.git"
        git.Repo.init(remote, bare=True, initial_branch="main")
        self.repo = git.Repo.init(self.path, initial_branch="main")
        with self.repo.config_writer() as config:
            config.set_value("user", "name", "Dev")
            config.set_value("user", "email", ACTOR)
            config.set_value("commit", "gpgsign", "false")
            config.set_value("tag", "gpgsign", "false")
        self.repo.create_remote("origin", str(remote))
        (self.path / ".gitignore").write_text(".opsctl/\n")
        self.configure()
        self.repo.git.push("-q", "-u", "origin", "main")

    def config(
        self, *, staging: dict[str, Any] | None = None, production: dict[str, Any] | None = None, **top: Any
    ) -> dict[str, Any]:
        def env(service: EcsService, bot: ServiceBot, extra: dict[str, Any]) -> dict[str, Any]:
            base = {
                "platform": service.platform_config(poll_interval="0.2s"),
                "health": {"base_url": bot.url, "synthetic": {"path": "/api/messages", "json": {"text": "hi"}}},
            }
            return _deep_merge(base, extra)

        return {
            "service": "hotel-voice-bot",
            "environments": {
                "staging": env(self.staging, self.staging_bot, staging or {}),
                "production": env(self.production, self.production_bot, {"protected": True, **(production or {})}),
            },
            **top,
        }

    def configure(self, **kwargs: Any) -> None:
        """Write opsctl.yaml (see :meth:`config`) and commit and push it, so that the tree stays clean."""
        self.config_path.write_text(yaml.safe_dump(self.config(**kwargs), sort_keys=False))
        self.commit("configure opsctl", [".gitignore", "opsctl.yaml"])

    def write(self, relative: str, text: str, *, commit: bool = True) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        if commit:
            self.commit(f"add {relative}", [relative])

    def commit(self, message: str, paths: Sequence[str] = ()) -> str:
        if paths:
            self.repo.index.add(list(paths))
        made = self.repo.index.commit(message)
        if self.repo.active_branch.tracking_branch() is not None:
            self.repo.git.push("-q", "origin", "main")
        return made.hexsha

    # -- running the CLI ------------------------------------------------------------------------

    def invoke(
        self,
        *args: str,
        actor: str = ACTOR,
        clock: datetime | None = None,
        input: str | None = None,
        interactive: bool = False,
    ) -> Result:
        now: Callable[[], datetime] | None = (lambda: clock) if clock is not None else None
        application = Application(interactive=interactive, actor=actor, clock=now)
        return CliRunner().invoke(app, ["--config", str(self.config_path), *args], obj=application, input=input)

    def deploy(self, env: str, image: str, *extra: str, confirms: Sequence[str] = CONFIRMS, **kwargs: Any) -> Result:
        yes = ("--yes",) if env == "production" else ()
        return self.invoke("deploy", env, "--image", image, *confirms, *yes, "--timeout", "20s", *extra, **kwargs)

    def hotpatch(
        self, env: str, image: str, *extra: str, confirms: Sequence[str] = HOTPATCH_CONFIRMS, **kwargs: Any
    ) -> Result:
        yes = ("--yes",) if env == "production" else ()
        return self.invoke("hotpatch", env, "--image", image, *confirms, *yes, "--timeout", "20s", *extra, **kwargs)

    # -- reading what happened ------------------------------------------------------------------

    def audit_text(self) -> str:
        return self.audit_path.read_text() if self.audit_path.exists() else ""

    def events(self, run: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(line) for line in self.audit_text().splitlines() if line.strip()]
        return [e for e in found if run is None or e.get("run") == run]

    def last_run(self) -> str:
        starts = [e for e in self.events() if e.get("step") == "run" and e.get("status") == "started"]
        assert starts, "no run in the audit log"
        return str(starts[-1]["run"])

    def run_end(self, run: str) -> dict[str, Any]:
        ends = [e for e in self.events(run) if e.get("step") == "run" and e.get("status") != "started"]
        assert ends, f"run {run} did not end"
        return ends[-1]

    def image(self, env: str) -> str:
        service = self.staging if env == "staging" else self.production
        client = service.client()
        arn = client.describe_services(cluster=service.cluster, services=[service.service])["services"][0][
            "taskDefinition"
        ]
        td = client.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        return next(c["image"] for c in td["containerDefinitions"] if c["name"] == service.container)


def output(result: Result) -> str:
    """Everything the command printed, for failure messages."""
    return f"[exit {result.exit_code}]\n{result.stdout}\n{result.stderr}"


def error_line(result: Result) -> str:
    """The one ``error:`` line on stderr (and no traceback)."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, output(result)
    return lines[0]


def step_events(events: list[dict[str, Any]], step: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("step") == step]
