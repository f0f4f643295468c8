"""Whatever happens to the index (or to the log behind its back), every command gives the log's answer.

Each case damages a copy of one realistic project, then runs the history
commands (`runs`, `releases`, `incident list`, `report`) and compares their
--json documents with what they say reading the log alone (the index made
unusable). The index must also end up describing the log again.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from opsctl.audit.index import INDEX_NAME
from opsctl.audit.line import encode_event, format_ts, split_line
from opsctl.audit.log import AuditLog
from opsctl.audit.query import load_runs
from tests.audit.index.helpers import (
    END,
    answers,
    copy_project,
    counts,
    index_file,
    log_answers,
    log_file,
    make_project,
    meta,
)
from tests.support.audit import lines_of, write_lines


@pytest.fixture
def project(history: tuple[Path, dict[str, object]], tmp_path: Path) -> Path:
    copy = copy_project(history[0], tmp_path / "project")
    index_file(copy).unlink(missing_ok=True)
    answers(copy)  # builds the index
    assert index_file(copy).is_file()
    return copy


def assert_describes_the_log(project: Path) -> None:
    data = log_file(project).read_bytes()
    covered = data.rfind(b"\n") + 1
    assert meta(project)["covered"] == covered
    assert meta(project)["size"] == len(data)
    assert counts(project)[1] == data[:covered].count(b"\n")
    assert counts(project)[0] == len(load_runs(log_file(project)))


def test_the_index_answers_as_the_log_does(project: Path, history: tuple[Path, dict[str, object]]) -> None:
    assert answers(project) == history[1]
    assert_describes_the_log(project)
    assert counts(project)[0] > 50  # a real history: many runs in three environments


def _remove(project: Path) -> None:
    for name in (INDEX_NAME, INDEX_NAME + "-wal", INDEX_NAME + "-shm"):
        (project / ".opsctl" / name).unlink(missing_ok=True)


def _garbage(project: Path) -> None:
    _remove(project)
    index_file(project).write_bytes(os.urandom(64 * 1024))


def _half(project: Path) -> None:
    _checkpoint(project)
    path = index_file(project)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty(project: Path) -> None:
    _remove(project)
    index_file(project).write_bytes(b"")


def _sql(statement: str) -> Callable[[Path], None]:
    def change(project: Path) -> None:
        with sqlite3.connect(index_file(project)) as conn:
            conn.execute(statement)

    return change


def _other_log(project: Path) -> None:
    other = make_project(project.parent / "other", 1500, seed=7)
    answers(other)
    _checkpoint(other)
    _remove(project)
    shutil.copy(index_file(other), index_file(project))


def _checkpoint(project: Path) -> None:
    with sqlite3.connect(index_file(project)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(_remove, id="deleted"),
        pytest.param(_garbage, id="garbage"),
        pytest.param(_half, id="truncated"),
        pytest.param(_empty, id="emptied"),
        pytest.param(_sql("PRAGMA user_version = 0"), id="older-schema"),
        pytest.param(_sql("DROP TABLE lines"), id="table-missing"),
        pytest.param(_sql("UPDATE meta SET covered = covered - 700, tail_off = tail_off - 700"), id="offset-moved"),
        pytest.param(_sql("UPDATE meta SET tail_sha = '0' || substr(tail_sha, 2)"), id="last-hash-wrong"),
        pytest.param(_sql("UPDATE meta SET head_sha = 'x'"), id="first-line-hash-wrong"),
        pytest.param(_sql("UPDATE meta SET ino = ino + 1"), id="other-file"),
        pytest.param(_sql("UPDATE meta SET size = size + 10, covered = covered + 10"), id="covers-more-than-the-log"),
        pytest.param(_other_log, id="index-of-another-log"),
    ],
)
def test_a_damaged_or_desynchronised_index_is_rebuilt_and_answers_the_same(
    project: Path, history: tuple[Path, dict[str, object]], damage: Callable[[Path], None]
) -> None:
    damage(project)
    assert answers(project) == history[1]
    assert_describes_the_log(project)


def _append_behind_its_back(project: Path) -> None:
    """Lines added the way an opsctl without the index (or one killed before updating it) leaves them."""
    data = log_file(project).read_bytes()
    last = data[:-1].rsplit(b"\n", 1)[-1]
    prev = split_line(last)
    assert prev is not None
    head, seq = prev[1], int(last[7 : last.index(b",")])
    moment = format_ts(END)
    lines = []
    for status, extra in (("started", {"params": {"image": "hvb:9.9.9"}, "dry_run": False}), ("succeeded", {
        "release_before": {"id": "hvb-staging:1", "image": "hvb:1.0.0"},
        "release_after": {"id": "hvb-staging:999", "image": "hvb:9.9.9"},
        "attempted": {"id": "hvb-staging:999", "image": "hvb:9.9.9"},
        "verified": True,
    })):  # fmt: skip
        seq += 1
        fields = {"seq": seq, "ts": moment, "run": "r20261127-085900-abc123", "runbook": "deploy", "env": "staging",
                  "actor": "late@hvb.example", "step": "run", "status": status, **extra}  # fmt: skip
        line, head = encode_event(fields, head)
        lines.append(line)
    with log_file(project).open("ab") as handle:
        handle.write(b"".join(lines))


def _truncate_log(project: Path) -> None:
    lines = lines_of(log_file(project))
    write_lines(log_file(project), lines[: len(lines) // 2])


def _tamper_in_place(project: Path) -> None:
    """One verdict edited without changing the log's length: `audit verify` fails, readers see the edit."""
    data = log_file(project).read_bytes()
    at = data.rfind(b'"status":"succeeded"')
    log_file(project).write_bytes(data[:at] + b'"status":"rolled_bk"' + data[at + 20 :])


def _longer_line(project: Path) -> None:
    data = log_file(project).read_bytes()
    at = data.rfind(b'"actor":"')
    log_file(project).write_bytes(data[:at] + b'"actor":"an.impostor.with.a.long.name+' + data[at + 9 :])


def _torn_tail(project: Path) -> None:
    with log_file(project).open("ab") as handle:
        handle.write(b'{"seq":99999,"ts":"2026-11-27T09:00:00.000Z","run":"r1","step":"run","sta')


def _replaced(project: Path) -> None:
    other = make_project(project.parent / "replacement", 1200, seed=3)
    os.replace(log_file(other), log_file(project))


def _appended_by_opsctl(project: Path) -> None:
    AuditLog(log_file(project)).append(
        {
            "run": "r20261127-085959-fedcba",
            "runbook": "rollback",
            "env": "production",
            "actor": "x@hvb.example",
            "step": "run",
            "status": "started",
            "params": {"image": "hvb:1.0.0"},
        }
    )


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_append_behind_its_back, id="appended-without-the-index"),
        pytest.param(_appended_by_opsctl, id="appended-by-opsctl"),
        pytest.param(_truncate_log, id="log-truncated"),
        pytest.param(_tamper_in_place, id="log-edited-in-place"),
        pytest.param(_longer_line, id="log-line-made-longer"),
        pytest.param(_torn_tail, id="torn-last-line"),
        pytest.param(_replaced, id="log-replaced"),
    ],
)
def test_the_index_follows_the_log_whatever_happened_to_it(project: Path, change: Callable[[Path], None]) -> None:
    change(project)
    truth = log_answers(project)
    assert answers(project) == truth
    assert_describes_the_log(project)


def test_a_log_change_changes_the_answer(project: Path, history: tuple[Path, dict[str, object]]) -> None:
    # The cases above compare like with like; here the edit must show, or they would prove nothing.
    _append_behind_its_back(project)
    changed = answers(project)
    assert changed != history[1]
    assert changed["runs"][1][0]["run"] == "r20261127-085900-abc123"
    assert changed["releases staging"][1][0]["id"] == "hvb-staging:999"
