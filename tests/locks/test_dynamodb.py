"""The shared DynamoDB deploy lock, on moto server: races, expiry, heartbeat, ownership, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import tests.support.team as team_support
from opsctl.cli.app import app
from opsctl.cli.application import Application
from opsctl.config import Locks
from opsctl.errors import BadInput, Locked
from opsctl.locks import make_lock_backend
from opsctl.locks.base import LockInfo, LockLost
from opsctl.locks.dynamodb import DynamoLockBackend
from tests.support import moto_server as aws_support
from tests.support.context import write_config
from tests.support.team import TABLE, Team, subprocess_env, write_runbook

moto_server = aws_support.moto_server
aws = aws_support.aws
atomic_dynamodb = team_support.atomic_dynamodb
team = team_support.team


def _backend(team: Team, *, ttl: float = 7200.0, **kwargs: object) -> DynamoLockBackend:
    config = Locks(backend="dynamodb", table=TABLE, ttl=ttl, endpoint_url=team.endpoint_url)
    return DynamoLockBackend(config, "hotel-voice-bot", **kwargs)  # type: ignore[arg-type]


def _info(actor: str, run: str | None = None) -> LockInfo:
    run = run or f"r-{actor}"
    return LockInfo.for_run("staging", run, actor, "deploy", run)


def _cli(path: Path, *args: str, actor: str = "alice@example.com") -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, ["--config", str(path), *args], obj=Application(actor=actor), env={"COLUMNS": "250"}
    )
    return result.exit_code, result.stdout, result.stderr


def test_twenty_threads_race_exactly_one_wins(team: Team) -> None:
    barrier = threading.Barrier(20)
    wins: list[str] = []
    losses: list[Locked] = []
    handles = []

    def contend(n: int) -> None:
        backend = _backend(team)
        backend.client  # noqa: B018 - make the client before the barrier so the race is the PutItem itself
        barrier.wait()
        try:
            handles.append(backend.acquire(_info(f"engineer-{n}")))
            wins.append(f"engineer-{n}")
        except Locked as exc:
            losses.append(exc)

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(wins) == 1, wins
    assert len(losses) == 19
    for exc in losses:
        assert exc.exit_code == 4
        assert f"staging is locked by run r-{wins[0]} (deploy) by {wins[0]} on " in str(exc)
    assert _backend(team).status("staging").actor == wins[0]  # type: ignore[union-attr]
    handles[0].release()
    assert _backend(team).status("staging") is None


@pytest.mark.timeout(300)  # twenty interpreters starting on a small CI machine
def test_twenty_processes_race_through_the_cli_exactly_one_wins_others_exit_4(team: Team, tmp_path: Path) -> None:
    flag = tmp_path / "finish"
    # The winner's deploy waits for the flag, so it holds the lock until every loser has answered.
    wait = f"import os, time\nwhile not os.path.exists({str(flag)!r}): time.sleep(0.05)"
    write_runbook(tmp_path, [sys.executable, "-c", wait])
    write_config(tmp_path, team.config())
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "opsctl", "deploy", "staging", "--image", "hvb:1.8.0", "--yes"],
            cwd=tmp_path,
            env=subprocess_env(team, f"engineer-{n}@example.com"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(20)
    ]
    try:
        deadline = time.monotonic() + 90
        while sum(p.poll() is not None for p in procs) < 19 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        flag.touch()
    results = [(p, *p.communicate(timeout=60)) for p in procs]
    winners = [n for n, (p, _, _) in enumerate(results) if p.returncode == 0]
    assert len(winners) == 1, [(p.returncode, err[-300:]) for p, _, err in results]
    holder = f"engineer-{winners[0]}@example.com"
    for n, (p, _, err) in enumerate(results):
        if n != winners[0]:
            assert p.returncode == 4, err
            assert err.startswith("error: staging is locked by run r"), err
            assert f"(deploy) by {holder} on " in err, err


def test_an_expired_lock_is_taken_over_and_its_late_release_does_not_free_the_new_one(team: Team) -> None:
    three_hours_ago = _backend(team, clock=lambda: time.time() - 3 * 3600, heartbeat=3600.0)
    stale = three_hours_ago.acquire(_info("gone@example.com"))
    fresh = _backend(team)
    assert fresh.status("staging") is None  # expires_at is in the past: free, whatever DynamoDB's TTL did
    handle = fresh.acquire(_info("bob@example.com"))
    stale.release()  # the old owner wakes up: its conditional delete must not touch bob's lock
    holder = fresh.status("staging")
    assert holder is not None
    assert holder.actor == "bob@example.com"
    handle.release()


def test_release_by_a_non_owner_is_refused(team: Team) -> None:
    backend = _backend(team)
    handle = backend.acquire(_info("alice@example.com", run="r-alice"))
    other = _backend(team)
    with pytest.raises(BadInput) as wrong:
        other.force_release("staging", "r-mallory")
    assert str(wrong.value) == "--id r-mallory does not match the lock held (r-alice); nothing was released"
    with pytest.raises(BadInput) as missing:
        other.force_release("staging", None)
    assert str(missing.value) == (
        "breaking staging's shared lock needs --id LOCK_ID, exactly as `opsctl lock status staging` shows it"
    )
    # Same lock id, but not the acquisition that took it: the owner's token is what releases.
    other.delete_own(handle.info, "not-the-token")
    assert other.status("staging") is not None
    handle.release()
    assert other.status("staging") is None


def test_heartbeat_keeps_a_long_runs_lock(team: Team) -> None:
    backend = _backend(team, ttl=1.0)  # heartbeat every 0.25s
    handle = backend.acquire(_info("alice@example.com"))
    first = backend.status("staging")
    time.sleep(2.5)  # 2.5 TTLs: without the heartbeat the lock would long have expired
    with pytest.raises(Locked):
        _backend(team, ttl=1.0).acquire(_info("bob@example.com"))
    later = backend.status("staging")
    assert first is not None
    assert later is not None
    assert later.expires_at
    assert first.expires_at
    assert later.expires_at > first.expires_at
    handle.release()
    _backend(team, ttl=1.0).acquire(_info("bob@example.com")).release()


def test_without_heartbeat_the_lock_expires_and_is_taken_over(team: Team) -> None:
    silent = _backend(team, ttl=1.0, heartbeat=3600.0)
    handle = silent.acquire(_info("alice@example.com"))
    time.sleep(1.2)
    taken = _backend(team, ttl=1.0).acquire(_info("bob@example.com"))
    assert silent.status("staging").actor == "bob@example.com"  # type: ignore[union-attr]
    taken.release()
    handle.release()


def test_a_heartbeat_that_finds_its_lock_broken_marks_the_handle_lost(team: Team) -> None:
    backend = _backend(team, ttl=1.0)
    handle = backend.acquire(_info("alice@example.com", run="r-alice"))
    backend.force_release("staging", "r-alice")
    time.sleep(0.6)
    assert handle.lost  # type: ignore[attr-defined]
    handle.release()


def test_cli_lock_status_and_forced_release_need_the_exact_id_and_are_audited(team: Team, tmp_path: Path) -> None:
    path = write_config(tmp_path, team.config())
    handle = make_lock_backend(_workspace_config(path)).acquire(_info("alice@example.com", run="r-alice"))
    code, out, _ = _cli(path, "lock", "status", "staging")
    assert code == 0
    assert "staging is locked by run r-alice (deploy) by alice@example.com on " in out
    assert "(lock id r-alice)" in out
    code, _, err = _cli(path, "lock", "release", "staging", "--force", actor="oncall@example.com")
    assert code == 2
    assert err == (
        "error: breaking staging's shared lock needs --id LOCK_ID, exactly as `opsctl lock status staging` shows it\n"
    )
    code, _, err = _cli(path, "lock", "release", "staging", "--force", "--id", "r-other")
    assert (code, err) == (2, "error: --id r-other does not match the lock held (r-alice); nothing was released\n")
    # alice's lock is held by this very (live) process on this host: breaking it needs --yes without a terminal.
    code, _, err = _cli(path, "lock", "release", "staging", "--force", "--id", "r-alice", actor="oncall@example.com")
    assert (code, err) == (
        2,
        f"error: run r-alice (pid {os.getpid()} on this host) is still alive; if you break its lock it stops before "
        "its next change, but a change it is making now may overlap the next run's; to break it anyway, run in a "
        "terminal to confirm, or pass --yes\n",
    )
    code, out, _ = _cli(
        path, "lock", "release", "staging", "--force", "--id", "r-alice", "--yes", actor="oncall@example.com"
    )
    assert code == 0, out
    assert "released staging's lock (was run r-alice (deploy) by alice@example.com" in out
    events = [json.loads(line) for line in (tmp_path / ".opsctl" / "audit.jsonl").read_text().splitlines()]
    broken = [e for e in events if e["step"] == "lock.release"]
    assert len(broken) == 1
    assert broken[0]["actor"] == "oncall@example.com"
    assert broken[0]["holder"]["lock_id"] == "r-alice"
    assert broken[0]["caller_arn"].startswith("arn:aws:")  # staging is on ECS: AWS says who broke it
    code, out, _ = _cli(path, "lock", "status", "staging")
    assert (code, out) == (0, "staging is not locked\n")
    handle.release()  # alice's late release is harmless


def test_a_locked_deploy_exits_4_naming_the_holder(team: Team, tmp_path: Path) -> None:
    path = write_config(tmp_path, team.config())
    handle = make_lock_backend(_workspace_config(path)).acquire(_info("alice@example.com", run="r-alice"))
    code, _, err = _cli(path, "deploy", "staging", "--image", "hvb:1.8.0", "--yes", actor="bob@example.com")
    assert code == 4
    assert err.startswith("error: staging is locked by run r-alice (deploy) by alice@example.com on ")
    assert err.endswith("; wait for it to finish, or see `opsctl lock status staging`\n")
    handle.release()


def test_lock_init_creates_the_table_with_ttl_and_prints_cloudformation(
    aws: aws_support.MotoServer, tmp_path: Path
) -> None:
    config = Team(aws).config()
    config["locks"]["table"] = "team-locks"
    path = write_config(tmp_path, config)
    code, out, _ = _cli(path, "lock", "init")
    assert (code, out) == (
        0,
        "created DynamoDB table team-locks; TTL on purge_at tidies old items (expiry itself "
        "is decided by expires_at)\n",
    )
    ddb = aws.client("dynamodb")
    assert ddb.describe_time_to_live(TableName="team-locks")["TimeToLiveDescription"]["AttributeName"] == "purge_at"
    code, out, _ = _cli(path, "lock", "init")
    assert code == 0
    assert out.startswith("DynamoDB table team-locks already exists")
    code, out, _ = _cli(path, "lock", "init", "--print")
    assert code == 0
    assert "Type: AWS::DynamoDB::Table" in out
    assert "TableName: team-locks" in out
    assert "dynamodb:PutItem" in out


def test_lock_init_with_the_file_backend_says_there_is_nothing_to_create(tmp_path: Path) -> None:
    code, _, err = _cli(write_config(tmp_path), "lock", "init")
    assert code == 2
    assert err == (
        "error: locks.backend is file, which needs no setup; set locks: {backend: dynamodb, table: NAME} "
        "in opsctl.yaml first\n"
    )


def test_a_missing_table_says_how_to_create_it(aws: aws_support.MotoServer) -> None:
    with pytest.raises(BadInput) as missing:
        _backend(Team(aws)).acquire(_info("alice@example.com"))
    assert str(missing.value) == (
        "DynamoDB table opsctl-locks not found; create it with `opsctl lock init` "
        "(or `opsctl lock init --print` for CloudFormation)"
    )


def _workspace_config(path: Path):  # type: ignore[no-untyped-def]
    from opsctl.config import load_config

    return load_config(path)


def test_dynamodb_down_fails_the_deploy_before_it_starts_but_not_status(team: Team, tmp_path: Path) -> None:
    config = team.config()
    config["locks"]["endpoint_url"] = team_support.DEAD_ENDPOINT
    path = write_config(tmp_path, config)
    code, _, err = _cli(path, "deploy", "staging", "--image", "hvb:1.8.0", "--yes")
    assert code == 2
    assert err.startswith("error: taking the deploy lock (table opsctl-locks): DynamoDB is unreachable (")
    code, out, _ = _cli(path, "status", "staging")
    assert code == 0
    assert "! lock state unknown: reading the deploy lock (table opsctl-locks): DynamoDB is unreachable" in out


# --- fencing tokens ------------------------------------------------------------------------------------------------


def _item(team: Team) -> dict[str, Any]:
    key = {"lock_key": {"S": "hotel-voice-bot/staging"}}
    item: dict[str, Any] = team.server.client("dynamodb").get_item(TableName=TABLE, Key=key, ConsistentRead=True)
    return item.get("Item", {})


def test_generations_grow_across_releases_breaks_and_takeovers(team: Team) -> None:
    backend = _backend(team, heartbeat=3600.0)
    first = backend.acquire(_info("alice@example.com", run="r-1"))
    assert first.token.generation == 1
    assert len(first.token.id) == 32
    first.release()
    item = _item(team)
    assert item["generation"] == {"N": "1"}  # a released lock keeps its item, and so its generation
    assert "token" not in item
    assert "purge_at" not in item  # TTL never removes it, so the count cannot restart
    assert backend.status("staging") is None
    second = backend.acquire(_info("bob@example.com", run="r-2"))
    assert second.token.generation == 2
    assert second.token.id != first.token.id
    assert backend.force_release("staging", "r-2") == second.info
    third = backend.acquire(_info("carol@example.com", run="r-3"))
    assert third.token.generation == 3
    third.release()
    second.release()  # the broken holder's late release touches nothing
    assert _item(team)["generation"] == {"N": "3"}


def test_check_passes_while_held_and_raises_once_broken(team: Team) -> None:
    backend = _backend(team, heartbeat=3600.0)
    handle = backend.acquire(_info("alice@example.com", run="r-alice"))
    before = backend.status("staging")
    handle.check()  # the heartbeat's conditional write: it also pushes expiry ahead
    assert not handle.lost
    assert before is not None
    backend.force_release("staging", "r-alice")
    with pytest.raises(LockLost) as lost:
        handle.check()
    assert str(lost.value) == "lost the lock on staging: it was broken or taken over"
    assert lost.value.holder is None
    assert handle.lost
    handle.release()


def test_check_names_the_run_that_took_an_expired_lock_over(team: Team) -> None:
    stale = _backend(team, clock=lambda: time.time() - 3 * 3600, heartbeat=3600.0)
    old = stale.acquire(_info("gone@example.com", run="r-gone"))
    new = _backend(team, heartbeat=3600.0).acquire(_info("bob@example.com", run="r-bob"))
    assert new.token.generation == old.token.generation + 1
    with pytest.raises(LockLost) as lost:
        old.check()
    assert lost.value.holder is not None
    assert lost.value.holder.run == "r-bob"
    new.check()
    new.release()
    old.release()


def test_check_trusts_an_unexpired_lock_while_dynamodb_is_unreachable_and_stops_after(team: Team) -> None:
    from opsctl.aws.client import aws_client

    now = [time.time()]
    backend = _backend(team, ttl=600.0, clock=lambda: now[0], heartbeat=3600.0)
    handle = backend.acquire(_info("alice@example.com", run="r-alice"))
    reachable = backend.client
    backend._client = aws_client("dynamodb", region="eu-west-1", endpoint_url=team_support.DEAD_ENDPOINT, retries=0)
    handle.check()  # nobody can take the lock before its expiry: go on
    now[0] += 601.0
    with pytest.raises(LockLost):
        handle.check()  # past expiry and unconfirmed: someone may hold it now
    backend._client = reachable
    handle.release()
