"""Stale runs: a "running" run whose process is gone is interrupted; a stopped run the world moved past is no resume."""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import replace

import pytest

from opsctl.audit.query import RunSummary
from opsctl.errors import BadInput, OpsctlError
from opsctl.locks.base import LockInfo
from opsctl.platforms.base import Release
from opsctl.runs.stale import Liveness, check_not_superseded, offerable, settle

HERE = socket.gethostname()
BEFORE = {"id": "hvb:1", "image": "hvb:1.7.0"}


def _run(run: str, status: str = "running", **fields: object) -> RunSummary:
    summary = RunSummary(run, "deploy", "staging", "ana@example.com", f"2026-11-27T10:0{run[-1]}:00.000Z", status)
    return replace(summary, **fields)


def _holder(run: str, host: str = HERE, pid: int = 0) -> LockInfo:
    return LockInfo("staging", run, "ana@example.com", "deploy", run, host, pid, "2026-11-27T10:00:00Z")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _store(holder: LockInfo | None) -> Liveness:
    """A lock store whose every environment is held by ``holder`` (None: free)."""
    return Liveness(lambda _env: holder, ["staging"])


def _settled(run: RunSummary, holder: LockInfo | None) -> str:
    (settled,) = settle([run], _store(holder))
    return settled.status


def test_a_running_run_without_its_lock_is_interrupted() -> None:
    (settled,) = settle([_run("r1")], _store(None))
    assert (settled.status, settled.summary) == (
        "interrupted",
        "stopped without a verdict (its process is gone); see `opsctl resume r1`",
    )
    assert _settled(_run("r1"), _holder("r2", pid=1)) == "interrupted"  # someone else holds the lock now


def test_a_lock_held_for_a_dead_process_of_this_host_is_interrupted() -> None:
    assert _settled(_run("r1"), _holder("r1", pid=_dead_pid())) == "interrupted"


@pytest.mark.parametrize(
    "holder",
    [_holder("r1", pid=0), _holder("r1", host="build-7", pid=4242), _holder("?")],
    ids=["no-pid", "other-host", "unreadable-holder"],
)
def test_a_lock_that_may_be_alive_keeps_the_run_running(holder: LockInfo) -> None:
    assert _settled(_run("r1"), holder) == "running"


def test_a_lock_held_by_this_live_process_keeps_the_run_running() -> None:
    import os

    assert _settled(_run("r1"), _holder("r1", pid=os.getpid())) == "running"


def test_runs_that_hold_no_lock_or_have_ended_are_left_as_they_are() -> None:
    asked: list[str] = []

    def holder_of(env: str) -> LockInfo | None:
        asked.append(env)
        return None

    runs = [
        _run("r1", dry_run=True),
        _run("r2", runbook="checklist:pre-deploy"),
        _run("r3", env="nowhere"),
        _run("r4", status="succeeded"),
    ]
    assert [r.status for r in settle(runs, Liveness(holder_of, ["staging"]))] == [
        "running",
        "running",
        "running",
        "succeeded",
    ]
    assert asked == []  # nothing to ask the lock store


def test_the_lock_store_is_asked_once_per_environment_and_may_be_down() -> None:
    asked: list[str] = []

    def down(env: str) -> LockInfo | None:
        asked.append(env)
        raise OpsctlError("DynamoDB is unavailable")

    runs = settle([_run("r1"), _run("r2")], Liveness(down, ["staging"]))
    assert [r.status for r in runs] == ["running", "running"]  # nobody can tell: said as it is
    assert asked == ["staging"]


def test_only_the_named_runs_are_judged() -> None:
    runs = settle([_run("r1"), _run("r2")], _store(None), only={"r2"})
    assert [r.status for r in runs] == ["running", "interrupted"]


def test_a_later_change_supersedes_a_stopped_run() -> None:
    stopped = _run("r1", status="interrupted", params={"image": "hvb:1.8.0"})
    gates_only = _run("r2", status="failed")  # stopped at its gates: nothing changed
    other_env = _run("r3", status="succeeded", env="production", release_after={"id": "x", "image": "y"})
    dry = _run("r4", status="interrupted", dry_run=True)
    runs = [stopped, gates_only, other_env, dry]
    check_not_superseded(runs, stopped)  # none of them changed staging
    assert offerable(runs) == [stopped]

    later = _run("r5", status="succeeded", params={"image": "hvb:1.9.0"}, release_before=BEFORE,
                 release_after={"id": "hvb:3", "image": "hvb:1.9.0"})  # fmt: skip
    with pytest.raises(BadInput) as refused:
        check_not_superseded([*runs, later], stopped)
    assert str(refused.value) == (
        "staging was changed by run r5 (deploy hvb:1.9.0 by ana@example.com) after run r1 was interrupted; "
        "start a new run instead"
    )
    assert offerable([*runs, later]) == []


def test_a_platform_running_something_unexpected_supersedes_a_stopped_run() -> None:
    stopped = _run("r1", status="interrupted", params={"image": "hvb:1.8.0"})
    state = {"previous": BEFORE, "rollback_plan": BEFORE}
    for expected in (Release("hvb:1", "hvb:1.7.0"), Release("hvb:2", "hvb:1.8.0")):
        check_not_superseded([stopped], stopped, current=expected, state=state)

    with pytest.raises(BadInput) as refused:
        check_not_superseded([stopped], stopped, current=Release("hvb:9", "hvb:2.0.0"), state=state)

    assert str(refused.value) == (
        "staging was changed after run r1 was interrupted: it now runs hvb:9 (hvb:2.0.0), "
        "but the run expected hvb:1 (hvb:1.7.0) or hvb:1.8.0; start a new run instead"
    )


def test_a_run_that_read_nothing_expects_nothing() -> None:
    stopped = _run("r1", status="interrupted", runbook="rollback")
    check_not_superseded([stopped], stopped, current=Release("hvb:9", "hvb:2.0.0"), state={})
