"""No half-finished Fly rollouts: SIGINT, SIGTERM and kill -9 in the middle of one, through the real CLI.

The CLI runs as a subprocess against the fake Fly Machines API and the sandbox
bot on 127.0.0.1; machines take ~0.7 s to start and pass their checks, so the
signal lands while m2's update is in flight (m1 done, m3 untouched).

- SIGINT / SIGTERM: m2 reaches its verdict, m1 and m2 go back, every lease is
  given back, then ``run interrupted`` is the journal's last event.
- kill -9: the leases stay held; ``resume RUN`` (or a ``rollback`` of the same
  environment) adopts them by the nonces the run journaled.
- a lease held by someone else: exit 4 naming them, and the run stays resumable.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.sandbox.bot import BotServer
from tests.e2e.harness import ACTOR, CONFIRMS, single_error_line, wait_for
from tests.support.cli_env import run_opsctl, start_opsctl
from tests.support.fly_api import DEFAULT_IMAGE as OLD
from tests.support.fly_api import TOKEN, FakeFlyApi

NEW = "registry.fly.io/hvb:1.8.0"
MACHINES = ("m1", "m2", "m3")


@pytest.fixture
def fly_api() -> Iterator[FakeFlyApi]:
    api = FakeFlyApi(start_delay=0.5, check_delay=0.2).start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def bot(fly_api: FakeFlyApi) -> Iterator[BotServer]:
    def majority_tag() -> str:
        return Counter(fly_api.images().values()).most_common(1)[0][0].rsplit(":", 1)[-1]

    server = BotServer(version=majority_tag).start()
    try:
        yield server
    finally:
        server.stop()


class Project:
    """A project whose production environment is the fake Fly app; the CLI as a subprocess."""

    def __init__(self, path: Path, api: FakeFlyApi, bot: BotServer) -> None:
        self.path = path
        platform = {"kind": "fly", "app": api.app, "api_url": api.url, "poll_interval": "0.02s", "lease_ttl": "60s"}
        health = {"base_url": bot.url, "synthetic": {"path": "/api/messages", "json": {"text": "hi"}}}
        config = {
            "service": "hvb",
            # No registry is reachable from tests: the image family of `opsctl verify` is off.
            "environments": {"production": {"platform": platform, "health": health, "verify": {"image": False}}},
            "slo": {"error_window": "1s"},
        }
        (path / "opsctl.yaml").write_text(yaml.safe_dump(config))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("FLY_", "OPSCTL_"))}
        self.env.update(OPSCTL_ACTOR=ACTOR, NO_COLOR="1", FLY_API_TOKEN=TOKEN)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_opsctl(self.path, self.env, *args)

    def start_deploy(self) -> subprocess.Popen[str]:
        return start_opsctl(self.path, self.env, "deploy", "production", "--image", NEW, *CONFIRMS)

    def events(self) -> list[dict[str, Any]]:
        lines = (self.path / ".opsctl" / "audit.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def run_id(self) -> str:
        return str(self.events()[0]["run"])

    def status(self, run_id: str) -> str:
        done = self.run("--json", "runs")
        assert done.returncode == 0, done.stderr
        return str(next(r["status"] for r in json.loads(done.stdout) if r["run"] == run_id))


@pytest.fixture
def project(tmp_path: Path, fly_api: FakeFlyApi, bot: BotServer) -> Project:
    return Project(tmp_path, fly_api, bot)


def mid_rollout(project: Project, api: FakeFlyApi) -> subprocess.Popen[str]:
    """A deploy whose m2 update was just sent (m1 is on the new image, m3 untouched)."""
    proc = project.start_deploy()
    try:
        wait_for(lambda: bool(api.updates("m2")), timeout=60, what="the update of m2")
    except AssertionError:
        proc.kill()
        out, err = proc.communicate(timeout=10)
        raise AssertionError(out + err) from None
    return proc


def lease_events(events: list[dict[str, Any]], run_id: str) -> list[tuple[str, str, str]]:
    return [
        (e["status"], e["machine"], e["nonce"]) for e in events if e["step"] == "platform.leases" and e["run"] == run_id
    ]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_rollout_leaves_one_image_no_lease_and_a_resumable_run(
    project: Project, fly_api: FakeFlyApi, sig: signal.Signals
) -> None:
    proc = mid_rollout(project, fly_api)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, out + err
    run_id = project.run_id()
    line = single_error_line(err)
    assert line == (
        f"error: interrupted; fly app hvb ({fly_api.url}): cancelled; restored m1, m2 to {OLD}; m3 untouched; "
        f"leases released: run {run_id} is journaled; continue it with `opsctl resume {run_id}`"
    )
    assert fly_api.images() == dict.fromkeys(MACHINES, OLD), "every machine runs one image: the old one"
    assert fly_api.leases() == {}, "no lease is left held"
    events = project.events()
    assert (events[-1]["step"], events[-1]["status"]) == ("run", "interrupted"), "nothing is journaled after it"
    leases = lease_events(events, run_id)
    assert [(s, m) for s, m, _ in leases[-3:]] == [("released", m) for m in MACHINES]
    assert project.status(run_id) == "interrupted"

    resumed = project.run("resume", run_id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert fly_api.images() == dict.fromkeys(MACHINES, NEW)
    assert fly_api.leases() == {}
    assert project.run("audit", "verify").returncode == 0


def killed_mid_rollout(project: Project, api: FakeFlyApi) -> tuple[str, dict[str, str]]:
    """kill -9 while m2's update is in flight: the run id and the leases it left, by their journaled nonces."""
    proc = mid_rollout(project, api)
    proc.kill()
    proc.communicate(timeout=10)
    run_id = project.run_id()
    journaled = {m: n for s, m, n in lease_events(project.events(), run_id) if s == "acquired"}
    assert api.lease_nonces() == journaled, "the leases it left are held under the nonces it journaled"
    run_events = [e["status"] for e in project.events() if e["step"] == "run"]
    assert run_events == ["started"], "kill -9 journals nothing more"
    assert project.status(run_id) == "interrupted"  # `runs`: its process is gone
    return run_id, journaled


def test_after_kill_9_resume_adopts_the_runs_own_leases_and_finishes(project: Project, fly_api: FakeFlyApi) -> None:
    run_id, left = killed_mid_rollout(project, fly_api)

    done = project.run("resume", run_id)

    assert done.returncode == 0, done.stdout + done.stderr
    assert fly_api.images() == dict.fromkeys(MACHINES, NEW)
    assert fly_api.leases() == {}
    leases = lease_events(project.events(), run_id)
    assert {m: n for s, m, n in leases if s == "adopted"} == left
    assert {m: n for s, m, n in leases if s == "released"} == left
    assert project.status(run_id) == "succeeded"
    assert project.run("audit", "verify").returncode == 0


def test_after_kill_9_a_rollback_of_the_environment_adopts_the_leases(project: Project, fly_api: FakeFlyApi) -> None:
    run_id, left = killed_mid_rollout(project, fly_api)

    done = project.run("rollback", "production", "--to", OLD)

    assert done.returncode == 0, done.stdout + done.stderr
    assert fly_api.images() == dict.fromkeys(MACHINES, OLD)
    assert fly_api.leases() == {}
    rollback_run = project.events()[-1]["run"]
    assert rollback_run != run_id
    leases = lease_events(project.events(), rollback_run)
    assert {m: n for s, m, n in leases if s == "adopted"} == left


def test_a_lease_held_by_another_run_exits_4_and_resume_works_later(project: Project, fly_api: FakeFlyApi) -> None:
    fly_api.hold_lease("m2", owner="alice@example.com", description="opsctl deploy on alice's laptop")
    until = datetime.fromtimestamp(int(fly_api.leases()["m2"]["expires_at"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    done = project.run("deploy", "production", "--image", NEW, *CONFIRMS)

    assert done.returncode == 4, done.stdout + done.stderr
    run_id = project.run_id()
    assert single_error_line(done.stderr) == (
        f"error: fly machine m2 of app hvb is leased by alice@example.com until {until}; the step changed nothing, "
        f"and run {run_id} stays resumable: `opsctl resume {run_id}`"
    )
    assert fly_api.images() == dict.fromkeys(MACHINES, OLD)
    assert set(fly_api.leases()) == {"m2"}, "ours were given back; alice's stays"
    assert project.status(run_id) == "interrupted"

    fly_api.release_lease("m2")
    resumed = project.run("resume", run_id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert fly_api.images() == dict.fromkeys(MACHINES, NEW)
    assert project.status(run_id) == "succeeded"
