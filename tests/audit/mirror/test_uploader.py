"""The S3 audit mirror on moto server: one object per run, chained checkpoints, the queue, the team's history."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import tests.support.team as team_support
from opsctl.audit.line import GENESIS
from opsctl.audit.mirror.checkpoint import Checkpoint
from opsctl.audit.mirror.uploader import Mirror
from opsctl.cli.app import app
from opsctl.cli.application import Application
from tests.support import moto_server as aws_support
from tests.support.context import write_config
from tests.support.team import (
    BUCKET,
    DEAD_ENDPOINT,
    PREFIX,
    Team,
    deploy,
    engineer,
    subprocess_env,
    ticking_clock,
    write_runbook,
)

moto_server = aws_support.moto_server
aws = aws_support.aws
atomic_dynamodb = team_support.atomic_dynamodb
team = team_support.team

MOTO_ARN = "arn:aws:sts::123456789012:user/moto"


def _cli(project: Path, *args: str, actor: str = "alice@example.com") -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, ["--config", str(project / "opsctl.yaml"), *args], obj=Application(actor=actor), env={"COLUMNS": "250"}
    )
    return result.exit_code, result.stdout, result.stderr


def _lines(project: Path) -> list[bytes]:
    return (project / ".opsctl" / "audit.jsonl").read_bytes().splitlines(keepends=True)


def _get(team: Team, key: str) -> bytes:
    data: bytes = team.s3().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return data


def test_each_run_is_one_object_in_time_order_pinned_by_a_chained_checkpoint(team: Team, tmp_path: Path) -> None:
    ws = engineer(tmp_path / "alice", team.config(), "alice@example.com", ticking_clock())
    first, second = deploy(ws), deploy(ws)
    assert (first.status, second.status) == ("succeeded", "succeeded")
    lines = _lines(tmp_path / "alice")
    log = json.loads(lines[0])["hash"][:16]
    runs = team.object_keys("runs/")
    days = [f"{run[1:5]}/{run[5:7]}/{run[7:9]}" for run in (first.run, second.run)]  # the runs' start days
    assert runs == [
        f"{PREFIX}runs/{days[0]}/{first.run}.{log}.jsonl",
        f"{PREFIX}runs/{days[1]}/{second.run}.{log}.jsonl",
    ]
    assert runs == sorted(runs)
    assert first.run < second.run
    # Byte for byte the local lines of each run: every line still proves itself.
    assert _get(team, runs[0]) == b"".join(line for line in lines if json.loads(line)["run"] == first.run)
    checkpoints = team.object_keys("checkpoints/")
    assert checkpoints == [f"{PREFIX}checkpoints/{log}/{seq:012d}.json" for seq in (4, 8)]
    one, two = (Checkpoint.parse(_get(team, key)) for key in checkpoints)
    assert (one.run, one.last_seq, one.head) == (first.run, 4, json.loads(lines[3])["hash"])
    assert one.prev_checkpoint == GENESIS
    assert (two.run, two.last_seq, two.head) == (second.run, 8, json.loads(lines[7])["hash"])
    assert two.prev_checkpoint == hashlib.sha256(_get(team, checkpoints[0])).hexdigest()
    assert one.sig is None  # no signing key configured
    assert json.loads(_get(team, checkpoints[0]))["v"] == 1


def test_events_on_aws_environments_carry_the_sts_caller_arn_shown_beside_the_actor(team: Team, tmp_path: Path) -> None:
    ws = engineer(tmp_path / "alice", team.config(), "alice@example.com")
    run = deploy(ws).run
    events = [json.loads(line) for line in _lines(tmp_path / "alice")]
    assert {e.get("caller_arn") for e in events if e["run"] == run} == {MOTO_ARN}
    code, out, _ = _cli(tmp_path / "alice", "audit", "show")
    assert code == 0
    header = next(line for line in out.splitlines() if "actor" in line)
    assert header.index("actor") < header.index("aws identity") < header.index("step")
    assert "arn:aws:sts::123456789012:user/" in out


def test_a_dead_sts_endpoint_means_no_arn_and_the_run_goes_on(team: Team, tmp_path: Path) -> None:
    config = team.config()
    config["environments"]["staging"]["platform"]["endpoint_url"] = DEAD_ENDPOINT
    ws = engineer(tmp_path / "alice", config, "alice@example.com")
    assert deploy(ws).status == "succeeded"
    assert not any("caller_arn" in json.loads(line) for line in _lines(tmp_path / "alice"))
    code, out, _ = _cli(tmp_path / "alice", "audit", "show")
    assert code == 0
    assert "aws identity" not in out


def test_s3_down_the_deploy_succeeds_status_says_behind_and_the_mirror_catches_up(team: Team, tmp_path: Path) -> None:
    project = tmp_path / "alice"
    ws = engineer(project, team.config(s3_endpoint=DEAD_ENDPOINT), "alice@example.com")
    down = deploy(ws)
    assert down.status == "succeeded"
    assert team.object_keys() == []
    warning = json.loads(_lines(project)[-1])
    assert (warning["run"], warning["step"], warning["status"]) == (down.run, "audit.mirror", "warned")
    assert warning["summary"].startswith(
        "audit mirror is 1 run(s) behind: uploading to s3://hvb-audit: S3 is unreachable"
    )
    code, out, _ = _cli(project, "status", "staging")
    assert code == 0, out
    assert "audit mirror: 1 run behind (queued since " in out
    code, out, _ = _cli(project, "--json", "status", "staging")
    assert json.loads(out)["audit_mirror"]["behind"] == 1
    code, _, err = _cli(project, "audit", "push")
    assert code == 1
    assert err.startswith("error: audit mirror still 1 run(s) behind: uploading to s3://hvb-audit")

    write_config(project, team.config())  # S3 is back
    up = deploy(engineer(project, team.config(), "alice@example.com"))
    runs = team.object_keys("runs/")
    assert {key.split("/")[-1].split(".")[0] for key in runs} == {down.run, up.run}
    # The first run's object holds the warning written after it ended, too.
    assert b'"step":"audit.mirror"' in _get(team, next(key for key in runs if down.run in key))
    code, out, _ = _cli(project, "status", "staging")
    assert "audit mirror: up to date" in out
    code, out, _ = _cli(project, "audit", "verify", "--remote")
    assert code == 0, out
    assert "central audit trail consistent: 2 run objects from 1 logs" in out


def test_audit_push_uploads_what_waited(team: Team, tmp_path: Path) -> None:
    project = tmp_path / "alice"
    run = deploy(engineer(project, team.config(s3_endpoint=DEAD_ENDPOINT), "alice@example.com")).run
    write_config(project, team.config())
    code, out, _ = _cli(project, "audit", "push")
    assert code == 0
    assert out.startswith("uploaded 1 run(s); checkpoint opsctl/checkpoints/")
    assert [key for key in team.object_keys("runs/") if run in key]
    code, out, _ = _cli(project, "audit", "push")
    assert (code, out) == (0, "nothing queued\n")


def test_an_interrupted_run_is_mirrored_when_it_stops(team: Team, tmp_path: Path) -> None:
    flag = tmp_path / "started"
    wait = f"import pathlib, time\npathlib.Path({str(flag)!r}).touch()\ntime.sleep(60)"
    write_runbook(tmp_path, [sys.executable, "-c", wait])
    write_config(tmp_path, team.config())
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsctl", "deploy", "staging", "--image", "hvb:1.8.0", "--yes"],
        cwd=tmp_path,
        env=subprocess_env(team, "alice@example.com"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    [key] = team.object_keys("runs/")
    statuses = [(e["step"], e["status"]) for e in map(json.loads, _get(team, key).splitlines())]
    assert ("run", "interrupted") in statuses
    assert len(team.object_keys("checkpoints/")) == 1


def test_remote_history_merges_everyones_runs_and_this_hosts_unmirrored_ones(team: Team, tmp_path: Path) -> None:
    alice = engineer(tmp_path / "alice", team.config(), "alice@example.com")
    bob = engineer(tmp_path / "bob", team.config(), "bob@example.com")
    a1, b1 = deploy(alice, "hvb:1.8.0"), deploy(bob, "hvb:1.8.1")
    write_config(tmp_path / "alice", team.config(s3_endpoint=DEAD_ENDPOINT))
    a2 = deploy(engineer(tmp_path / "alice", team.config(s3_endpoint=DEAD_ENDPOINT), "alice@example.com"), "hvb:1.8.2")
    write_config(tmp_path / "alice", team.config())  # reading works again, a2 is still only local

    code, out, _ = _cli(tmp_path / "alice", "--json", "runs")
    assert [r["run"] for r in json.loads(out)] == [a2.run, a1.run]  # newest first
    code, out, _ = _cli(tmp_path / "alice", "--json", "runs", "--remote")
    assert code == 0
    merged = json.loads(out)
    assert [(r["run"], r["actor"]) for r in merged] == [
        (a2.run, "alice@example.com"),
        (b1.run, "bob@example.com"),
        (a1.run, "alice@example.com"),
    ]
    code, out, _ = _cli(tmp_path / "alice", "--json", "audit", "show", "--remote", "--run", b1.run)
    *events, summary = [json.loads(line) for line in out.splitlines()]
    assert summary == {"event": "audit.show.finished", "ok": True, "exit_code": 0, "events": len(events)}
    assert events
    assert {e["actor"] for e in events} == {"bob@example.com"}
    local_report = json.loads(_cli(tmp_path / "alice", "--json", "report", "--since", "1d")[1])["total"]
    team_report = json.loads(_cli(tmp_path / "alice", "--json", "report", "--since", "1d", "--remote")[1])["total"]
    assert (_runs_counted(local_report), _runs_counted(team_report)) == (2, 3)
    code, out, _ = _cli(tmp_path / "alice", "audit", "show", "--remote", "--since", "1h")
    assert code == 0
    assert "bob@example.com" in out
    assert "alice@example.com" in out


def _runs_counted(total: dict[str, Any]) -> int:
    """Deploy runs the report saw, counted as deploys or set apart (our quick runbook has no rollout)."""
    return int(total["deploys"]) + sum(total["not_counted"].values())


def test_the_read_cache_is_used_only_while_it_matches_s3(team: Team, tmp_path: Path) -> None:
    project = tmp_path / "alice"
    ws = engineer(project, team.config(), "alice@example.com")
    run = deploy(ws).run
    assert _cli(project, "runs", "--remote")[0] == 0
    [cached] = (project / ".opsctl" / "mirror" / "cache" / "runs").iterdir()
    original = cached.read_bytes()
    cached.write_bytes(original.replace(b"alice@example.com", b"mallory@example.com"))
    _code, out, _ = _cli(project, "--json", "runs", "--remote")
    assert [(r["run"], r["actor"]) for r in json.loads(out)] == [(run, "alice@example.com")]
    assert cached.read_bytes() == original  # refreshed from S3


def test_remote_reading_needs_audit_s3(tmp_path: Path) -> None:
    write_config(tmp_path)
    code, _, err = _cli(tmp_path, "runs", "--remote")
    assert (code, err) == (2, "error: audit.s3 is not configured in opsctl.yaml: there is no central audit trail\n")


def test_the_mirror_hook_never_raises(team: Team, tmp_path: Path) -> None:
    ws = engineer(tmp_path / "alice", team.config(s3_endpoint=DEAD_ENDPOINT), "alice@example.com")
    ws.journal("r-manual", "checklist:x", None).event("run", "passed")
    result = Mirror(ws.mirror_site()).run_finished("r-manual")
    assert (result.behind, result.uploaded) == (1, ())
    assert result.error is not None
    assert result.error.startswith("uploading to s3://hvb-audit: S3 is unreachable")


# --- the mirror's own files on a machine in a bad state: one line, never "a bug in opsctl" ------------------------


def _local_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Mirror:
    """A mirror whose S3 is never reached (the failures below come first); paths show relative to tmp_path."""
    from datetime import UTC, datetime

    from opsctl.audit.log import AuditLog
    from opsctl.audit.mirror import MirrorSite
    from opsctl.config import S3Audit

    monkeypatch.chdir(tmp_path)
    state = tmp_path / ".opsctl"
    site = MirrorSite(
        S3Audit(bucket=BUCKET), state, AuditLog(state / "audit.jsonl"), "alice@example.com", lambda: datetime.now(UTC)
    )
    return Mirror(site, bucket=object())  # type: ignore[arg-type]


def test_a_file_where_the_queue_folder_goes_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from opsctl.errors import BadInput

    mirror = _local_mirror(tmp_path, monkeypatch)
    (tmp_path / ".opsctl" / "mirror").mkdir(parents=True)
    (tmp_path / ".opsctl" / "mirror" / "queue").write_text("not a folder")
    with pytest.raises(BadInput) as caught:
        mirror.enqueue("r20261127-100000-abcdef")
    assert str(caught.value) == "audit mirror queue .opsctl/mirror/queue: not a directory; move it away"


def test_a_queue_entry_that_cannot_be_written_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from opsctl.errors import BadInput

    mirror = _local_mirror(tmp_path, monkeypatch)
    (tmp_path / ".opsctl" / "mirror" / "queue" / "r20261127-100000-abcdef").mkdir(parents=True)
    (tmp_path / ".opsctl" / "mirror" / "queue" / "r2").symlink_to(tmp_path / "missing" / "entry")
    with pytest.raises(BadInput) as caught:
        mirror.enqueue("r2")
    assert str(caught.value) == (
        f"audit mirror queue .opsctl/mirror/queue/r2: is a broken symbolic link (its target "
        f"{tmp_path / 'missing' / 'entry'} does not exist)"
    )


def test_a_flush_whose_lock_file_cannot_be_opened_reports_and_keeps_the_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = _local_mirror(tmp_path, monkeypatch)
    mirror.enqueue("r20261127-100000-abcdef")
    (tmp_path / ".opsctl" / "mirror" / "lock").mkdir()
    result = mirror.flush()  # never raises
    assert result.error == "audit mirror .opsctl/mirror/lock: is a directory, expected a file"
    assert result.behind == 1
    assert mirror.queued() == ["r20261127-100000-abcdef"]
