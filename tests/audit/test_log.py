"""The hash-chained audit log: append, verify (naming the first bad line), torn tails and recovery."""

from __future__ import annotations

import hashlib
import json
import stat
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsctl.audit.line import GENESIS, RECOVER_STEP, ChainLine, chain_line, decode_line, encode_event
from opsctl.audit.log import AuditLog, Journal
from opsctl.values.redact import Redactor
from tests.support.audit import event, lines_of, make_log, write_lines

TORN = "truncated tail left by a crash (the last write did not finish); the next opsctl run records a recovery event"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "audit.jsonl"


def test_events_are_chained(path: Path) -> None:
    log = AuditLog(path, clock=lambda: datetime(2026, 11, 27, 10, 0, 1, 250000, tzinfo=UTC))
    first = log.append(event(1))
    second = log.append(event(2, detail={"n": 1}))

    assert (first["seq"], first["prev"]) == (1, GENESIS)
    assert (second["seq"], second["prev"]) == (2, first["hash"])
    assert first["ts"] == "2026-11-27T10:00:01.250Z"
    assert [json.loads(line) for line in lines_of(path)] == [first, second]
    line, digest = encode_event({k: v for k, v in second.items() if k not in ("prev", "hash")}, first["hash"])
    assert line == lines_of(path)[1]
    assert digest == second["hash"]


def test_verify_of_an_intact_log(path: Path) -> None:
    log = make_log(path, 5)
    result = log.verify()
    assert result.ok
    assert (result.events, result.bad_line, result.last_seq) == (5, None, 5)
    assert result.head == json.loads(lines_of(path)[-1])["hash"]
    assert result.message == f"audit log intact: 5 events, head {result.head[:12]}"


def test_a_log_that_does_not_exist_yet_is_intact(path: Path) -> None:
    result = AuditLog(path).verify()
    assert (result.ok, result.events) == (True, 0)


def test_file_is_private(path: Path) -> None:
    make_log(path, 1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert (path.parent / ".gitignore").read_text() == "# opsctl state: not source\n*\n"


def test_values_are_redacted_before_they_are_written(path: Path) -> None:
    log = AuditLog(path, Redactor(["hunter2-secret"]))
    written = log.append(event(1, summary="login with hunter2-secret", detail={"url": "https://u:pw@x.example"}))
    assert written["summary"] == "login with ***"
    raw = path.read_bytes()
    assert b"hunter2-secret" not in raw
    assert b"u:pw@" not in raw


def test_seq_continues_across_writers(path: Path) -> None:
    make_log(path, 3)
    assert AuditLog(path).append(event(4))["seq"] == 4
    assert AuditLog(path).verify().ok


def test_listeners_hear_each_written_event(path: Path) -> None:
    heard: list[dict[str, object]] = []
    log = AuditLog(path, listeners=[heard.append])
    written = log.append(event(1))
    assert heard == [written]


def test_very_long_lines_keep_the_chain(path: Path) -> None:
    log = AuditLog(path)
    log.append(event(1, summary="many words " * 20_000))  # 220 kB: more than one tail read
    log.append(event(2))
    result = log.verify()
    assert (result.ok, result.events) == (True, 2)


def test_journal_stamps_every_event(path: Path) -> None:
    journal = Journal(AuditLog(path), "r1", "deploy", None, "alice", {"image": "hvb:1.8.0"})
    written = journal.event("pre-deploy", "started", title="Pre-deploy")
    assert {k: written[k] for k in ("run", "runbook", "env", "actor", "step", "status", "image", "title")} == {
        "run": "r1",
        "runbook": "deploy",
        "env": "-",
        "actor": "alice",
        "step": "pre-deploy",
        "status": "started",
        "image": "hvb:1.8.0",
        "title": "Pre-deploy",
    }


def test_journal_asks_who_aws_says_we_are_once_at_the_first_event(path: Path) -> None:
    asked: list[int] = []

    def identify() -> str | None:
        asked.append(1)
        return "arn:aws:sts::123456789012:assumed-role/deployer/alice"

    journal = Journal(AuditLog(path), "r1", "deploy", "staging", "alice", identify=identify)
    assert asked == []  # nothing is asked before an event is written
    first = journal.event("run", "started")
    second = journal.event("run", "succeeded")
    assert asked == [1]
    assert first["caller_arn"] == second["caller_arn"] == "arn:aws:sts::123456789012:assumed-role/deployer/alice"
    assert journal.extra == {"caller_arn": "arn:aws:sts::123456789012:assumed-role/deployer/alice"}


def test_journal_without_an_answer_records_no_arn(path: Path) -> None:
    asked: list[int] = []

    def identify() -> str | None:
        asked.append(1)
        return None

    journal = Journal(AuditLog(path), "r1", "deploy", "staging", "alice", identify=identify)
    journal.event("run", "started")
    journal.event("run", "succeeded")
    assert asked == [1]
    assert not any("caller_arn" in e for e in AuditLog(path).events())
    assert "caller_arn" not in Journal(AuditLog(path), "r2", "deploy", None, "alice").event("run", "started")


def test_concurrent_first_events_all_carry_the_arn(path: Path) -> None:
    def slow_identify() -> str | None:
        time.sleep(0.05)  # the other threads reach event() while the answer is on its way
        return "arn:aws:iam::123456789012:user/alice"

    journal = Journal(AuditLog(path), "r1", "checklist:x", "staging", "alice", identify=slow_identify)
    threads = [threading.Thread(target=journal.event, args=(f"item-{n}", "passed")) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e.get("caller_arn") for e in AuditLog(path).events()] == ["arn:aws:iam::123456789012:user/alice"] * 4


def test_nothing_is_journaled_for_a_run_after_its_interrupted_line_until_it_resumes(path: Path) -> None:
    log = AuditLog(path)
    run = Journal(log, "r1", "deploy", "staging", "alice")
    worker = Journal(log, "r1", "rollback", "staging", "alice")  # another journal of the same run (a rollback)
    other = Journal(log, "r2", "deploy", "production", "bob")

    run.event("run", "started")
    run.event("run", "interrupted")
    late = worker.event("health", "passed", summary="a worker thread that outlived the run")
    other.event("run", "started")
    run.event("run", "resumed")
    worker.event("health", "passed")

    assert late["written"] is False
    assert [(e["run"], e["step"], e["status"]) for e in log.events()] == [
        ("r1", "run", "started"),
        ("r1", "run", "interrupted"),
        ("r2", "run", "started"),
        ("r1", "run", "resumed"),
        ("r1", "health", "passed"),
    ]
    assert log.verify().ok


def test_chain_line_and_decode_line_read_one_raw_line(path: Path) -> None:
    log = make_log(path, 2)
    first, second = (line.rstrip(b"\n") for line in lines_of(path))
    parsed = json.loads(second)
    assert chain_line(second) == ChainLine(2, parsed["prev"], parsed["hash"], intact=True)
    assert chain_line(second.replace(b"step-2", b"step-9")) == ChainLine(2, parsed["prev"], parsed["hash"], False)
    assert chain_line(b'{"seq":1}') is None
    assert chain_line(b"not json at all") is None
    assert decode_line(first + b"\n") == json.loads(first)
    assert decode_line(b'{"step":"run", broken') is None
    assert decode_line(b'[{"step":"run"}]') is None  # JSON, but not an event
    assert decode_line(b"") is None
    assert log.verify().ok


def test_events_skip_damaged_lines(path: Path) -> None:
    log = make_log(path, 3)
    lines = lines_of(path)
    write_lines(path, [lines[0], b"garbage\n", lines[1], b"[1, 2]\n", lines[2]])
    assert [e["step"] for e in log.events()] == ["step-1", "step-2", "step-3"]


# --- tampering ------------------------------------------------------------------------------------------------


def test_edited_line(path: Path) -> None:
    log = make_log(path, 5)
    lines = lines_of(path)
    lines[2] = lines[2].replace(b'"status":"passed"', b'"status":"failed"')
    write_lines(path, lines)

    result = log.verify()
    assert (result.ok, result.bad_line, result.events) == (False, 3, 2)
    assert result.message == "line 3: content does not match its hash (the line was edited)"


def test_edited_hash(path: Path) -> None:
    log = make_log(path, 3)
    lines = lines_of(path)
    record = json.loads(lines[1])
    lines[1] = lines[1].replace(record["hash"].encode(), b"0" * 64)
    write_lines(path, lines)
    assert log.verify().message == "line 2: content does not match its hash (the line was edited)"


def test_deleted_line(path: Path) -> None:
    log = make_log(path, 5)
    lines = lines_of(path)
    del lines[2]
    write_lines(path, lines)
    assert log.verify().message == (
        "line 3: does not follow the line before it (seq 4 after 2): events were deleted or moved"
    )


def test_deleted_first_line(path: Path) -> None:
    log = make_log(path, 3)
    write_lines(path, lines_of(path)[1:])
    assert log.verify().message == "line 1: does not start the chain (lines were removed from the start of the log)"


def test_inserted_copy_of_a_line(path: Path) -> None:
    log = make_log(path, 4)
    lines = lines_of(path)
    lines.insert(2, lines[1])
    write_lines(path, lines)
    assert log.verify().message == (
        "line 3: does not follow the line before it: lines were reordered or inserted (seq 2 after 2)"
    )


def test_inserted_foreign_line(path: Path) -> None:
    log = make_log(path, 4)
    lines = lines_of(path)
    lines.insert(2, b'{"seq":3,"step":"deploy","status":"passed"}\n')
    write_lines(path, lines)
    assert log.verify().message == "line 3: not a valid audit event (damaged or edited)"


def test_inserted_blank_line(path: Path) -> None:
    log = make_log(path, 3)
    lines = lines_of(path)
    lines.insert(1, b"\n")
    write_lines(path, lines)
    assert log.verify().message == "line 2: not a valid audit event (damaged or edited)"


def test_reordered_lines(path: Path) -> None:
    log = make_log(path, 5)
    lines = lines_of(path)
    lines[1], lines[2] = lines[2], lines[1]
    write_lines(path, lines)
    result = log.verify()
    assert (result.ok, result.bad_line) == (False, 2)
    assert result.message == "line 2: does not follow the line before it (seq 3 after 1): events were deleted or moved"


def test_reordered_last_two_lines(path: Path) -> None:
    log = make_log(path, 4)
    lines = lines_of(path)
    lines[2], lines[3] = lines[3], lines[2]
    write_lines(path, lines)
    assert log.verify().bad_line == 3


@pytest.mark.parametrize("offset", [-2, -3], ids=["closing-brace", "closing-quote"])
def test_every_byte_of_a_line_is_protected(path: Path, offset: int) -> None:
    # A line whose closing `"}` is altered no longer parses as JSON, so `audit show` and
    # `report` silently skip it: verify must not call such a log intact.
    log = make_log(path, 3)
    lines = lines_of(path)
    damaged = bytearray(lines[1])
    damaged[offset] = ord("x")
    lines[1] = bytes(damaged)
    write_lines(path, lines)

    assert [e["step"] for e in log.events()] == ["step-1", "step-3"]  # the event vanished from readers
    result = log.verify()
    assert (result.ok, result.bad_line) == (False, 2)


# --- crashes: torn tails and recovery ---------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [1, 40, 120, -3], ids=["one-byte", "early", "middle", "almost-all"])
def test_torn_tail_then_recovery(path: Path, keep: int) -> None:
    log = make_log(path, 3)
    lines = lines_of(path)
    torn = lines[2][:keep]
    write_lines(path, [*lines[:2], torn])

    result = log.verify()
    assert (result.ok, result.truncated_tail, result.bad_line, result.events) == (False, True, 3, 2)
    assert result.message == f"line 3: {TORN}"

    written = log.append(event(4))

    recovered = log.verify()
    assert recovered.ok, recovered.message
    assert recovered.events == 4  # 2 intact, the recovery event, the new one
    events = list(log.events())
    recovery = events[-2]
    assert recovery["step"] == RECOVER_STEP
    assert recovery["status"] == "recovered"
    assert recovery["torn_line"] == 3
    assert recovery["torn_bytes"] == len(torn)
    assert recovery["torn_sha256"] == hashlib.sha256(torn).hexdigest()
    assert (recovery["run"], recovery["env"], recovery["actor"]) == (written["run"], "staging", "a@example.com")
    assert written["prev"] == recovery["hash"]
    assert written["seq"] == recovery["seq"] + 1


def test_torn_tail_that_lost_only_its_newline(path: Path) -> None:
    log = make_log(path, 3)
    path.write_bytes(path.read_bytes()[:-1])
    assert log.verify().message == f"line 3: {TORN}"

    log.append(event(4))

    result = log.verify()
    assert result.ok, result.message


def test_torn_first_line(path: Path) -> None:
    log = make_log(path, 1)
    path.write_bytes(path.read_bytes()[:50])
    assert log.verify().message == f"line 1: {TORN}"
    log.append(event(2))
    assert log.verify().ok


def test_a_damaged_line_that_no_recovery_explains(path: Path) -> None:
    log = make_log(path, 3)
    lines = lines_of(path)
    write_lines(path, [lines[0], lines[1][:50] + b"\n", lines[2]])
    assert log.verify().message == "line 2: not a valid audit event (damaged or edited)"


def test_a_recovery_event_cannot_excuse_a_different_line(path: Path) -> None:
    log = make_log(path, 2)
    path.write_bytes(path.read_bytes()[:-30])
    log.append(event(3))
    lines = lines_of(path)
    lines[1] = lines[1][:20] + b"tampered" + lines[1][28:]  # change the torn bytes the recovery names
    write_lines(path, lines)
    result = log.verify()
    assert (result.ok, result.bad_line) == (False, 2)
    assert result.reason == "not a valid audit event (damaged or edited)"
