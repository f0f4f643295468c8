"""lock_holder and break_lock (the core of `opsctl lock status | release`) on the file backend, and the command."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opsctl.cli.app import app
from opsctl.cli.application import Application
from opsctl.errors import BadInput, RunFailed
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


# --- a holder still alive on this host -----------------------------------------------------------------------------


def hold_alive(ws: Workspace) -> LockHandle:
    """A lock held by this very process: alive, on this host (as a run waiting at a prompt would be)."""
    return make_lock_backend(ws.config).acquire(
        LockInfo.for_run("staging", "r-live", "alice@example.com", "deploy", "r-live")
    )


ALIVE = (
    f"run r-live (pid {os.getpid()} on this host) is still alive; if you break its lock it stops before its next "
    "change, but a change it is making now may overlap the next run's"
)


def test_a_live_holder_is_not_broken_without_yes_or_a_typed_confirmation(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    handle = hold_alive(ws)
    with pytest.raises(BadInput) as caught:
        breaking(ws)
    assert str(caught.value) == f"{ALIVE}; to break it anyway, run in a terminal to confirm, or pass --yes"
    asked: list[tuple[str, str]] = []

    def refuse(env: str, warning: str) -> bool:
        asked.append((env, warning))
        return False

    with pytest.raises(RunFailed) as declined:
        breaking(ws, confirm=refuse)
    assert str(declined.value) == "not confirmed: staging was not typed; staging's lock was not released"
    assert declined.value.exit_code == 1
    assert asked == [("staging", ALIVE)]
    assert lock_holder(ws.config, "staging") == handle.info
    assert events(ws) == []
    assert breaking(ws, confirm=lambda _env, _warning: True).removed == handle.info
    handle.release()
    handle = hold_alive(ws)
    assert breaking(ws, yes=True).removed == handle.info
    assert [e["step"] for e in events(ws)] == ["lock.release", "lock.release"]
    handle.release()


def test_the_command_asks_for_the_environment_name_at_a_terminal(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    ws = Workspace.load(str(path))
    handle = hold_alive(ws)

    def release(typed: str, *extra: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(
            app,
            ["--config", str(path), "lock", "release", "staging", "--force", *extra],
            obj=Application(actor="oncall@example.com", interactive=True, no_color=True),
            env={"COLUMNS": "400"},
            input=typed,
        )
        return result.exit_code, result.stdout, result.stderr

    code, out, err = release("prod\n")
    assert code == 1
    assert out == f"{ALIVE}\n  type staging to break its lock: "
    assert err == "error: not confirmed: staging was not typed; staging's lock was not released\n"
    assert lock_holder(ws.config, "staging") == handle.info
    code, out, _ = release("staging\n")
    assert code == 0
    assert out.endswith(f"released staging's lock (was {handle.info.describe()}); recorded in the audit log\n")
    handle.release()
    handle = hold_alive(ws)
    assert cli(path, "lock", "release", "staging", "--force") == (
        2,
        "",
        f"error: {ALIVE}; to break it anyway, run in a terminal to confirm, or pass --yes\n",
    )
    code, out, _ = cli(path, "lock", "release", "staging", "--force", "--yes")
    assert code == 0, out
    handle.release()
