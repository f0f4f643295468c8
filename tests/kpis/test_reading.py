"""read_events with marks (the fast path under `report`, `status`, `releases`) reads what the plain path reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsctl.audit.log import AuditLog
from opsctl.audit.query import RUN_MARK, load_runs, read, read_events, summarize
from opsctl.kpis.figures import ROLLBACK_MARK
from tests.kpis.logbook import Logbook


def damaged_log(book: Logbook) -> Path:
    book.run("d1", "deploy", "staging", "11-02 10:00", "11-02 10:10", "succeeded")
    book.run("d2", "deploy", "staging", "11-03 10:00", "11-03 10:10", "rolled_back", rollback_at="11-03 10:05")
    # The mark twice in one line (a parameter that looks like it).
    AuditLog(book.path).append(
        {
            "run": "d3",
            "runbook": "deploy",
            "env": "staging",
            "actor": "a",
            "step": "run",
            "status": "started",
            "params": {"note": {"step": "run"}},
        }
    )
    with book.path.open("ab") as handle:
        handle.write(b'{"step":"run", broken json\n')
        handle.write(b'[{"step":"run"}]\n')  # JSON, but not an event
        handle.write(b"\n")
        handle.write(b'{"step":"run","status":"torn')  # a crash mid-write: no newline
    return book.path


@pytest.mark.parametrize("block", [64, 1000, 4 << 20])
def test_same_events_as_read_events(book: Logbook, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    path = damaged_log(book)
    monkeypatch.setattr(read, "_BLOCK", block)  # small blocks: lines longer than a block, splits everywhere
    expected = by_hand(path, (RUN_MARK,))
    assert list(read_events(path, (RUN_MARK,))) == expected
    assert [e["run"] for e in expected] == ["d1", "d1", "d2", "d2", "d3"]
    assert list(read_events(path, (RUN_MARK, ROLLBACK_MARK))) == by_hand(path, (RUN_MARK, ROLLBACK_MARK))
    everything = by_hand(path, ())
    assert list(read_events(path)) == everything  # the plain path: every line, same decoding
    assert list(AuditLog(path).events()) == everything  # the log's own streamed reader agrees
    assert len(everything) > len(expected)


def by_hand(path: Path, marks: tuple[bytes, ...]) -> list[dict[str, object]]:
    """The specification: complete lines holding a mark (any line: no marks) that parse as a JSON object, in order."""
    found = []
    for line in path.read_bytes().split(b"\n")[:-1]:
        if not marks or any(mark in line for mark in marks):
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                found.append(event)
    return found


def test_load_runs_unchanged(book: Logbook) -> None:
    path = damaged_log(book)
    assert [r.as_dict() for r in load_runs(path)] == [r.as_dict() for r in summarize(AuditLog(path).events())]
    assert [r.dry_run for r in load_runs(path)] == [False, False, False]


def test_missing_and_empty_logs(tmp_path: Path) -> None:
    assert list(read_events(tmp_path / "none.jsonl", (RUN_MARK,))) == []
    assert list(read_events(tmp_path / "none.jsonl")) == []
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert list(read_events(tmp_path / "empty.jsonl", (RUN_MARK,))) == []
    assert list(read_events(tmp_path / "empty.jsonl")) == []
