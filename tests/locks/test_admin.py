"""lock_holder and break_lock (the core of `opsctl lock status | release`) on the file backend, and the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opsctl.cli.app import app
from opsctl.cli.application import Application
from opsctl.errors import BadInput
from opsctl.locks import make_lock_backend
from opsctl.locks.admin import LockBreak, break_lock, lock_holder
from opsctl.locks.base import LockHandle, LockInfo
from opsctl.workspace import Workspace
from tests.support.context import base_config, make_workspace, write_config

HOLDER = LockInfo(
    "staging", "r-alice", "alice@example.com", "deploy", "r-alice", "build-7", 4242, "2026-11-27T10:00:00Z"
)
DESCRIBED = "run r-alice (deploy) by alice@example.com on build-7, pid 4242 since 2026-11-27T10:00:00Z"


def hold(ws: Workspace) -> LockHandle:
    return make_lock_backend(ws.config).acquire(HOLDER)


def events(ws: Workspace) -> list[dict[str, Any]]:
    if not ws.audit.path.exists():
        return []
    return [json.loads(line) for line in ws.audit.path.read_text().splitlines()]


def breaking(ws: Workspace, lock_id: str | None = None, *, force: bool = True, **kwargs: Any) -> LockBreak:
    journal = ws.journal(ws.new_run_id(), "lock.release", "staging")
    return break_lock(ws.config, journal, "staging", lock_id, force=force, **kwargs)


def test_breaking_a_held_lock_journals_who_broke_whose_lock(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, actor="oncall@example.com")
    handle = hold(ws)
    finished: list[str] = []
    result = breaking(ws, finished=finished.append)
    assert result.released
    assert (result.env, result.holder, result.removed) == ("staging", HOLDER, HOLDER)
    assert lock_holder(ws.config, "staging") is None
    written = events(ws)
    assert [(e["run"], e["runbook"], e["env"], e["actor"], e["step"], e["status"]) for e in written] == [
        (result.run, "lock.release", "staging", "oncall@example.com", "lock.release", "passed")
    ]
    assert written[0]["summary"] == "lock broken by oncall@example.com"
    assert written[0]["holder"] == HOLDER.as_dict()
    assert finished == [result.run]
    handle.release()  # the broken holder's late release is harmless


def test_a_free_lock_is_left_alone_and_nothing_is_journaled(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    finished: list[str] = []
    result = breaking(ws, finished=finished.append)
    assert result == LockBreak("staging", None)
    assert not result.released
    assert events(ws) == []
    assert finished == []


def test_breaking_needs_force(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    handle = hold(ws)
    with pytest.raises(BadInput) as caught:
        breaking(ws, force=False)
    assert str(caught.value) == "breaking staging's lock needs --force (see `opsctl lock status staging` first)"
    assert lock_holder(ws.config, "staging") == HOLDER
    handle.release()


def test_a_lock_id_that_is_not_the_one_held_breaks_nothing(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    handle = hold(ws)
    with pytest.raises(BadInput) as caught:
        breaking(ws, "r-bob")
    assert str(caught.value) == "--id r-bob does not match the lock held (r-alice); nothing was released"
    assert lock_holder(ws.config, "staging") == HOLDER
    assert events(ws) == []
    assert breaking(ws, "r-alice").removed == HOLDER
    handle.release()


def test_a_shared_lock_needs_its_exact_id(tmp_path: Path) -> None:
    # Refused before the store is asked anything: the endpoint below has no server.
    config = base_config(locks={"backend": "dynamodb", "table": "opsctl-locks", "endpoint_url": "http://127.0.0.1:9"})
    ws = make_workspace(tmp_path, config)
    assert make_lock_backend(ws.config).requires_lock_id
    with pytest.raises(BadInput) as caught:
        breaking(ws)
    assert str(caught.value) == (
        "breaking staging's shared lock needs --id LOCK_ID, exactly as `opsctl lock status staging` shows it"
    )


def test_an_unknown_environment_is_bad_input(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    unknown = f"unknown environment 'qa' (defined in {tmp_path / 'opsctl.yaml'}: staging, production)"
    with pytest.raises(BadInput) as caught:
        lock_holder(ws.config, "qa")
    assert str(caught.value) == unknown
    with pytest.raises(BadInput) as caught:
        break_lock(ws.config, ws.journal("r-x", "lock.release", "qa"), "qa", None, force=True)
    assert str(caught.value) == unknown


def cli(path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, ["--config", str(path), *args], obj=Application(actor="oncall@example.com"), env={"COLUMNS": "250"}
    )
    return result.exit_code, result.stdout, result.stderr


def test_the_commands_print_one_line_each(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    ws = Workspace.load(str(path))
    assert cli(path, "lock", "status", "staging") == (0, "staging is not locked\n", "")
    assert cli(path, "lock", "release", "staging", "--force") == (0, "staging is not locked; nothing to release\n", "")
    handle = hold(ws)
    code, out, _ = cli(path, "--json", "lock", "status", "staging")
    assert (code, json.loads(out)) == (0, {"env": "staging", "locked": True, "holder": HOLDER.as_dict()})
    assert cli(path, "lock", "status", "staging") == (0, f"staging is locked by {DESCRIBED} (lock id r-alice)\n", "")
    assert cli(path, "lock", "release", "staging") == (
        2,
        "",
        "error: breaking staging's lock needs --force (see `opsctl lock status staging` first)\n",
    )
    assert cli(path, "lock", "release", "staging", "--force") == (
        0,
        f"released staging's lock (was {DESCRIBED}); recorded in the audit log\n",
        "",
    )
    assert [(e["step"], e["actor"]) for e in events(ws)] == [("lock.release", "oncall@example.com")]
    handle.release()
