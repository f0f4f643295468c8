"""``EventFilter`` and ``find_events``: what ``opsctl audit show`` lists, read once through the one reader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from opsctl.audit.log import AuditLog
from opsctl.audit.query import EventFilter, find_events, read_events, run_events

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def _at(minutes: int) -> AuditLog:
    return AuditLog(Path(), clock=lambda: T0 + timedelta(minutes=minutes))


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    """Two runs: r1 on staging (passes), then r2 on production (fails), one event a minute from T0."""
    path = tmp_path / "audit.jsonl"
    rows = [
        ("r1", "staging", "run", "started", {}),
        ("r1", "staging", "pre-deploy/tests", "passed", {"note": '"env":"production"'}),  # looks like a match
        ("r1", "staging", "run", "succeeded", {}),
        ("r2", "production", "run", "started", {}),
        ("r2", "production", "pre-deploy/tests", "failed", {}),
        ("r2", "production", "run", "failed", {}),
    ]
    for minute, (run, env, step, status, extra) in enumerate(rows):
        fields: dict[str, Any] = {"run": run, "runbook": "deploy", "env": env, "actor": "a", "step": step}
        AuditLog(path, clock=lambda minute=minute: T0 + timedelta(minutes=minute)).append(
            {**fields, "status": status, **extra}
        )
    return AuditLog(path)


def shown(log: AuditLog, **kwargs: Any) -> list[tuple[str, str, str]]:
    limit = kwargs.pop("limit", None)
    return [(e["run"], e["step"], e["status"]) for e in find_events(log, EventFilter(**kwargs), limit=limit)]


def test_no_filter_is_every_event_oldest_first(log: AuditLog) -> None:
    assert len(find_events(log)) == 6
    assert find_events(log) == list(read_events(log.path)) == list(log.events())
    assert find_events(log.path) == find_events(log)  # a path or the log


def test_each_field_filters(log: AuditLog) -> None:
    assert shown(log, run="r2") == [
        ("r2", "run", "started"),
        ("r2", "pre-deploy/tests", "failed"),
        ("r2", "run", "failed"),
    ]
    assert [run for run, _, _ in shown(log, env="production")] == ["r2", "r2", "r2"]  # not r1's look-alike note
    assert shown(log, step="run", status="failed") == [("r2", "run", "failed")]
    assert shown(log, status="failed") == [("r2", "pre-deploy/tests", "failed"), ("r2", "run", "failed")]
    assert shown(log, step="pre-deploy/tests") == [
        ("r1", "pre-deploy/tests", "passed"),
        ("r2", "pre-deploy/tests", "failed"),
    ]
    assert shown(log, since=T0 + timedelta(minutes=4)) == [
        ("r2", "pre-deploy/tests", "failed"),
        ("r2", "run", "failed"),
    ]
    assert shown(log, run="r1", env="production") == []
    assert shown(log, run="r-none") == []


def test_limit_keeps_the_newest(log: AuditLog) -> None:
    assert shown(log, limit=2) == [("r2", "pre-deploy/tests", "failed"), ("r2", "run", "failed")]
    assert shown(log, step="run", limit=1) == [("r2", "run", "failed")]
    assert shown(log, limit=100) == shown(log)
    assert shown(log, limit=0) == []


def test_marks_spell_values_as_the_log_writes_them() -> None:
    assert EventFilter().marks == ()
    assert EventFilter(env="staging", step="run").marks == (b'"env":"staging"',)
    assert EventFilter(run="r-ü", env="staging").marks == ('"run":"r-ü"'.encode(),)


def test_a_run_id_outside_ascii_is_found(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append({"run": "r-ü", "runbook": "deploy", "env": "staging", "actor": "a", "step": "run", "status": "started"})
    assert [e["run"] for e in run_events(log, "r-ü")] == ["r-ü"]
    assert [e["run"] for e in find_events(log, EventFilter(run="r-ü"))] == ["r-ü"]


def test_events_without_a_readable_time_are_outside_every_window(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text(
        '{"run":"r1","env":"staging","step":"run","status":"started","ts":"yesterday"}\n'
        '{"run":"r1","env":"staging","step":"run","status":"passed","ts":"2026-11-27T10:00:00"}\n'
        '{"run":"r1","env":"staging","step":"run","status":"failed"}\n'
        '{"run":"r1","env":"staging","step":"run","status":"succeeded","ts":"2026-11-27T10:00:00.000Z"}\n'
    )
    assert [e["status"] for e in find_events(path, EventFilter(since=T0 - timedelta(days=1)))] == ["succeeded"]
    assert len(find_events(path, EventFilter(run="r1"))) == 4
