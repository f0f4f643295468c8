"""An interrupted run stops the platform before it journals, and a run stopped by a lease stays resumable.

In-process, against the fake Fly Machines API on 127.0.0.1: Ctrl-C is raised in
the main thread (``_thread.interrupt_main``, what SIGINT does) while the deploy
step's worker is updating a machine.
"""

from __future__ import annotations

import _thread
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.audit.query import load_runs
from opsctl.errors import ExitCode, Interrupted, Locked
from opsctl.runs import RunOptions, execute, resume
from opsctl.workspace import Workspace
from tests.support.fly_api import DEFAULT_IMAGE as OLD
from tests.support.fly_api import FakeFlyApi

NEW = "registry.fly.io/hvb:1.8.0"
DEPLOY = {
    "title": "Deploy",
    "change_type": "standard",
    "steps": [
        {"id": "plan", "title": "Plan", "uses": "platform.plan"},
        {"id": "deploy", "title": "Roll out", "uses": "platform.deploy"},
    ],
}


@pytest.fixture
def api() -> Iterator[FakeFlyApi]:
    fake = FakeFlyApi(start_delay=0.3, check_delay=0.1).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def ws(tmp_path: Path, api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("FLY_API_TOKEN", api.token)
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "deploy.yaml").write_text(yaml.safe_dump(DEPLOY, sort_keys=False))
    platform = {"kind": "fly", "app": api.app, "api_url": api.url, "poll_interval": "0.02s", "lease_ttl": "60s"}
    config = {"service": "hvb", "environments": {"production": {"platform": platform}}}
    (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(config))
    return Workspace.load(str(tmp_path / "opsctl.yaml"), actor="dev@example.com")


class CtrlCWhen:
    """An observer that presses Ctrl-C (in the main thread) each time the platform says one of ``triggers``."""

    def __init__(self, *triggers: str) -> None:
        self.triggers = list(triggers)
        self.messages: list[str] = []

    def event(self, kind: str, data: dict[str, Any]) -> None:
        message = str(data.get("message", ""))
        if kind == "message":
            self.messages.append(message)
        if kind == "platform.event" and self.triggers and message.startswith(self.triggers[0]):
            self.triggers.pop(0)
            _thread.interrupt_main()


def events(ws: Workspace) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ws.audit.path.read_text().splitlines()]


def run_status(ws: Workspace, run_id: str) -> str:
    return next(r.status for r in load_runs(ws.audit.path) if r.run == run_id)


def test_ctrl_c_restores_the_machine_in_flight_releases_leases_then_journals(ws: Workspace, api: FakeFlyApi) -> None:
    with pytest.raises(Interrupted) as caught:
        execute(ws, "deploy", "production", {"image": NEW}, RunOptions(observer=CtrlCWhen("m2: updating")))

    log = events(ws)
    run_id = log[0]["run"]
    assert str(caught.value) == (
        f"interrupted; fly app hvb ({api.url}): cancelled; restored m1, m2 to {OLD}; m3 untouched; leases released: "
        f"run {run_id} is journaled; continue it with `opsctl resume {run_id}`"
    )
    assert caught.value.exit_code is ExitCode.INTERRUPTED
    assert api.images() == {"m1": OLD, "m2": OLD, "m3": OLD}
    assert api.leases() == {}
    # In that order: every lease given back (and journaled), then `run interrupted`, then nothing.
    last = log[-1]
    assert (last["step"], last["status"]) == ("run", "interrupted")
    assert last["summary"] == (
        f"interrupted by the user; fly app hvb ({api.url}): cancelled; restored m1, m2 to {OLD}; m3 untouched; "
        "leases released; resume with `opsctl resume`"
    )
    leases = [(e["status"], e["machine"]) for e in log if e["step"] == "platform.leases"]
    assert leases == [*(("acquired", m) for m in ("m1", "m2", "m3")), *(("released", m) for m in ("m1", "m2", "m3"))]
    assert run_status(ws, run_id) == "interrupted"

    done = resume(ws, run_id, RunOptions())
    assert done.status == "succeeded", done.summary
    assert api.images() == {"m1": NEW, "m2": NEW, "m3": NEW}
    assert api.leases() == {}


def test_a_lease_held_by_someone_else_exits_4_and_the_run_stays_resumable(ws: Workspace, api: FakeFlyApi) -> None:
    api.hold_lease("m2", owner="alice@example.com")
    until = datetime.fromtimestamp(int(api.leases()["m2"]["expires_at"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    with pytest.raises(Locked) as caught:
        execute(ws, "deploy", "production", {"image": NEW}, RunOptions())

    run_id = events(ws)[0]["run"]
    message = (
        f"fly machine m2 of app hvb is leased by alice@example.com until {until}; the step changed nothing, "
        f"and run {run_id} stays resumable: `opsctl resume {run_id}`"
    )
    assert str(caught.value) == message
    assert caught.value.exit_code is ExitCode.LOCKED
    last = events(ws)[-1]
    assert (last["step"], last["status"], last["summary"], last["locked"]) == ("run", "interrupted", message, True)
    assert run_status(ws, run_id) == "interrupted"
    assert api.updates() == []
    assert set(api.leases()) == {"m2"}

    with pytest.raises(Locked):  # still held: resume says so, and the run still is not closed
        resume(ws, run_id, RunOptions())
    assert run_status(ws, run_id) == "interrupted"

    api.release_lease("m2")
    done = resume(ws, run_id, RunOptions())
    assert done.status == "succeeded", done.summary
    assert run_status(ws, run_id) == "succeeded"
    assert api.images() == {"m1": NEW, "m2": NEW, "m3": NEW}


def test_a_second_ctrl_c_does_not_cut_the_stop_short(ws: Workspace, api: FakeFlyApi) -> None:
    impatient = CtrlCWhen("m2: updating", "m2: stopping")

    with pytest.raises(Interrupted) as caught:
        execute(ws, "deploy", "production", {"image": NEW}, RunOptions(observer=impatient))

    assert impatient.triggers == [], "both presses happened"
    assert "stopping: still putting the platform back in order; please wait" in impatient.messages
    assert f"restored m1, m2 to {OLD}; m3 untouched; leases released" in str(caught.value)
    assert api.images() == {"m1": OLD, "m2": OLD, "m3": OLD}
    assert api.leases() == {}
    log = events(ws)
    assert (log[-1]["step"], log[-1]["status"]) == ("run", "interrupted")
