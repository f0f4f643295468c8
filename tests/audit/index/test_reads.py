"""The index's answers against the plain reads they replace: windows, newest verified release, marks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from opsctl.audit.index import ask
from opsctl.audit.line import GENESIS, encode_event, format_ts
from opsctl.audit.query import (
    DEPLOYING,
    RUN_MARK,
    last_verified,
    load_runs,
    newest_verified,
    read_events,
    run_events,
    window_events,
)
from opsctl.audit.query import runs as runs_module
from opsctl.kpis.figures import MARKS
from tests.audit.index.helpers import END, copy_project, log_file, make_project

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def write_log(path: Path, events: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    prev, lines = GENESIS, []
    for seq, fields in enumerate(events, start=1):
        line, prev = encode_event({"seq": seq, **fields}, prev)
        lines.append(line)
    path.write_bytes(b"".join(lines))
    return path


def run(run_id: str, at: datetime, status: str, **extra: Any) -> dict[str, Any]:
    return {"ts": format_ts(at), "run": run_id, "runbook": extra.pop("runbook", "deploy"), "env": "staging",
            "actor": "a@hvb.example", "step": "run", "status": status, **extra}  # fmt: skip


def release(image: str, n: int) -> dict[str, Any]:
    return {"id": f"hvb:{n}", "image": image}


def test_runs_come_from_the_index_not_from_reading_the_log(
    history: tuple[Path, dict[str, object]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(history[0], tmp_path / "p")
    expected = load_runs(log_file(project), "production")

    def scanned(*_: object, **__: object) -> None:
        raise AssertionError("read the whole log")

    monkeypatch.setattr(runs_module, "read_events", scanned)
    assert load_runs(log_file(project), "production") == expected
    assert load_runs(log_file(project), "production", last=5) == expected[-5:]
    everything = load_runs(log_file(project))
    assert (
        load_runs(log_file(project), None, runbooks=DEPLOYING, last=9)
        == [r for r in everything if r.runbook in DEPLOYING][-9:]
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_newest_verified_is_last_verified_over_every_run(tmp_path: Path, seed: int) -> None:
    project = make_project(tmp_path / "p", 2500, seed=seed)
    for env in ("staging", "production", "development"):
        assert newest_verified(log_file(project), env) == last_verified(read_runs(log_file(project), env), env)


def read_runs(path: Path, env: str) -> list[Any]:
    from opsctl.audit.query import summarize

    return [r for r in summarize(read_events(path, (RUN_MARK,))) if r.env == env]


def test_newest_verified_sees_an_older_run_that_failed_the_same_image_later(tmp_path: Path) -> None:
    # Run A (older) deploys hvb:2 and fails after B verified hvb:2: B is no rollback target.
    log = write_log(tmp_path / "audit.jsonl", [
        run("rA", T0, "started"),
        run("rB", T0 + timedelta(minutes=1), "started"),
        run("rB", T0 + timedelta(minutes=2), "succeeded", verified=True, release_after=release("hvb:2", 2)),
        run("rA", T0 + timedelta(minutes=3), "failed", release_after=release("hvb:2", 3),
            attempted=release("hvb:2", 3)),
        run("rC", T0 + timedelta(minutes=4), "started"),
        run("rC", T0 + timedelta(minutes=5), "succeeded", verified=True, release_after=release("hvb:1", 1)),
    ])  # fmt: skip
    runs = load_runs(log)
    assert last_verified(runs, "staging") is not None
    assert newest_verified(log, "staging") == last_verified(runs, "staging")
    assert newest_verified(log, "staging").image == "hvb:1"  # type: ignore[union-attr]
    log2 = write_log(tmp_path / "two" / "audit.jsonl", [
        run("rA", T0, "started"),
        run("rB", T0 + timedelta(minutes=1), "started"),
        run("rB", T0 + timedelta(minutes=2), "succeeded", verified=True, release_after=release("hvb:2", 2)),
        run("rA", T0 + timedelta(minutes=3), "failed", release_after=release("hvb:2", 3),
            attempted=release("hvb:2", 3)),
    ])  # fmt: skip
    assert newest_verified(log2, "staging") is None
    assert last_verified(load_runs(log2), "staging") is None


def test_a_report_window_reads_only_the_runs_active_in_it(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 4000)
    path = log_file(project)
    start = END - timedelta(days=30)
    windowed = list(window_events(path, MARKS, start))
    everything = list(read_events(path, MARKS))
    assert 0 < len(windowed) < len(everything) / 5
    assert windowed == everything[len(everything) - len(windowed) :]  # a suffix of the log: whole recent runs
    kept = {e["run"] for e in windowed}
    older = list(everything[: len(everything) - len(windowed)])
    assert not kept & {e["run"] for e in older}
    assert all(e["ts"] < format_ts(start) for e in older)


def _window_log(tmp_path: Path, times: list[str]) -> Path:
    return write_log(tmp_path / "audit.jsonl", [
        {"ts": ts, "run": f"r{n}", "runbook": "deploy", "env": "staging", "actor": "a", "step": "run",
         "status": "started"} for n, ts in enumerate(times)
    ])  # fmt: skip


@pytest.mark.parametrize(
    "times",
    [
        pytest.param(
            ["2026-01-01T00:00:00.000Z", "2026-06-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z"], id="clock-back"
        ),
        pytest.param(["2026-01-01T00:00:00.000Z", "2026-06-01 00:00:00", "2026-06-02T00:00:00.000Z"], id="odd-time"),
    ],
)
def test_a_window_the_index_cannot_cut_reads_the_whole_log(tmp_path: Path, times: list[str]) -> None:
    path = _window_log(tmp_path, times)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    assert list(window_events(path, (RUN_MARK,), start)) == list(read_events(path, (RUN_MARK,)))


def test_a_window_cut_where_the_clock_moved_on(tmp_path: Path) -> None:
    path = _window_log(tmp_path, ["2026-01-01T00:00:00.000Z", "2026-06-01T00:00:00.000Z", "2026-06-02T00:00:00.000Z"])
    start = datetime(2026, 5, 1, tzinfo=UTC)
    assert [e["run"] for e in window_events(path, (RUN_MARK,), start)] == ["r1", "r2"]
    assert ask(path, lambda index: index.window_start(format_ts(start))) is not None


def test_marks_the_index_does_not_track_read_the_log(history: tuple[Path, dict[str, object]]) -> None:
    path = log_file(history[0])
    mark = b'"uses":"health.live"'
    assert ask(path, lambda index: index.marked((mark,))) == (None,)
    found = list(read_events(path, (mark,)))
    assert found
    assert all(e.get("uses") == "health.live" for e in found)


def test_run_events_read_only_that_runs_lines(history: tuple[Path, dict[str, object]]) -> None:
    path = log_file(history[0])
    newest = load_runs(path, "staging", last=1)[0]
    events = run_events(path, newest.run)
    assert events
    assert {e["run"] for e in events} == {newest.run}
    assert events == [e for e in read_events(path) if e.get("run") == newest.run]
