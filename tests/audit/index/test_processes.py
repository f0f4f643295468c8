"""Other processes: appends by another opsctl, two writers at once, and a rebuild killed with kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from opsctl.audit.index import ask
from opsctl.audit.log import AuditLog
from opsctl.audit.query import load_runs, run_events
from tests.audit.index.helpers import (
    REPO,
    answers,
    copy_project,
    counts,
    index_file,
    log_answers,
    log_file,
    make_project,
    meta,
)

APPEND = """
import sys
from pathlib import Path
from opsctl.audit.log import AuditLog
log = AuditLog(Path(sys.argv[1]))
for n in range(int(sys.argv[3])):
    log.append({"run": sys.argv[2], "runbook": "deploy", "env": "staging", "actor": "p@hvb.example",
                "step": "run" if n == 0 else f"step-{n}", "status": "started", "params": {"image": "hvb:7.0.0"}})
"""
REINDEX = """
import sys
import time
from pathlib import Path
from opsctl.audit.index import reindex
from opsctl.audit.index.writer import Writer
real_flush = Writer.flush
def flush(self):
    real_flush(self)
    print("inside", flush=True)  # rows written, the write transaction still open: the moment to kill
    time.sleep(120)
Writer.flush = flush
print("started", flush=True)
reindex(Path(sys.argv[1]))
"""


def python(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, text=True, stdout=subprocess.PIPE)


def test_runs_appended_by_another_process_are_caught_up(
    history: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    project = copy_project(history[0], tmp_path / "project")
    answers(project)
    before = meta(project)["covered"]
    done = python(APPEND, str(log_file(project)), "r20261127-085000-0a0a0a", "30")
    assert done.wait(timeout=60) == 0
    # The other process updated the index after each of its appends; this one still checks it first.
    assert meta(project)["covered"] == log_file(project).stat().st_size > before
    runs = load_runs(log_file(project), "staging", last=1)
    assert [r.run for r in runs] == ["r20261127-085000-0a0a0a"]
    assert len(run_events(log_file(project), "r20261127-085000-0a0a0a")) == 30
    assert answers(project) == log_answers(project)


def test_two_processes_appending_at_once_leave_one_consistent_index(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / ".opsctl" / "audit.jsonl")
    log.append({"run": "r0", "runbook": "deploy", "env": "staging", "actor": "a", "step": "run", "status": "started"})
    writers = [python(APPEND, str(log.path), f"r20261127-0900{n}0-00000{n}", "60") for n in (1, 2)]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    assert log.verify().ok
    assert ask(log.path, lambda index: index.covered) == (log.path.stat().st_size,)
    assert counts(tmp_path)[1] == 121
    for n in (1, 2):
        assert len(run_events(log.path, f"r20261127-0900{n}0-00000{n}")) == 60
    runs = load_runs(log.path)
    assert runs[0].run == "r0"
    assert {r.run for r in runs[1:]} == {"r20261127-090010-000001", "r20261127-090020-000002"}


def test_a_rebuild_killed_with_kill_9_leaves_an_index_that_is_rebuilt_again(tmp_path: Path) -> None:
    project = make_project(tmp_path / "big", 60000)
    truth = log_answers(project)
    index_file(project).unlink(missing_ok=True)
    for _moment in ("no index yet", "over a complete index"):
        rebuild = python(REINDEX, str(log_file(project)))
        assert rebuild.stdout is not None
        assert rebuild.stdout.readline().strip() == "started"
        assert rebuild.stdout.readline().strip() == "inside"  # rows written, transaction not committed
        os.kill(rebuild.pid, signal.SIGKILL)
        assert rebuild.wait(timeout=30) == -signal.SIGKILL
        assert answers(project) == truth
        assert meta(project)["covered"] == log_file(project).stat().st_size


def test_an_append_never_fails_because_of_the_index(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / ".opsctl" / "audit.jsonl")
    log.path.parent.mkdir()
    index_file(tmp_path).mkdir()  # the index cannot be made
    written = log.append({"run": "r1", "runbook": "deploy", "env": "staging", "actor": "a", "step": "run",
                          "status": "started"})  # fmt: skip
    assert written["seq"] == 1
    assert log.verify().ok
    assert [r.run for r in load_runs(log.path)] == ["r1"]  # read from the log itself


def test_an_append_only_catches_up_and_never_rebuilds(history: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    project = copy_project(history[0], tmp_path / "project")
    index_file(project).unlink(missing_ok=True)
    event = {"run": "r9", "runbook": "deploy", "env": "staging", "actor": "a", "step": "run", "status": "started"}
    AuditLog(log_file(project)).append(event)
    assert not index_file(project).exists()  # made by the next reader, not by an append
    answers(project)
    with sqlite3.connect(index_file(project)) as conn:
        conn.execute("UPDATE meta SET tail_sha = 'stale'")
    AuditLog(log_file(project)).append(event)
    assert meta(project)["tail_sha"] == "stale"  # left for a reader to rebuild
    assert answers(project) == log_answers(project)
    assert meta(project)["covered"] == log_file(project).stat().st_size
