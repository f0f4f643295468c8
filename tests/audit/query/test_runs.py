"""Runs and releases from the log: typed accessors, newest-first lists, one vocabulary of status words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from opsctl.audit.log import AuditLog, Journal
from opsctl.audit.query import (
    RUN_STATUSES,
    Requested,
    RunSummary,
    load_runs,
    newest_first,
    release_history,
    summarize,
)

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
OLD = {"id": "td:1", "image": "hvb:1.7.0"}
NEW = {"id": "td:2", "image": "hvb:1.8.0"}


def _run(path: Path, run: str, runbook: str, minute: int, *, status: str, params: dict[str, Any], **end: Any) -> None:
    log = AuditLog(path, clock=lambda: T0 + timedelta(minutes=minute))
    journal = Journal(log, run, runbook, "staging", "alice@example.com")
    journal.event("run", "started", params=params, dry_run=False)
    if status != "running":
        journal.event("run", status, **end)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    attempt = {"id": "td:3", "image": "hvb:1.9.0"}
    ends = {"release_before": NEW, "verified": True}
    _run(path, "r1", "deploy", 0, status="succeeded", params={"image": "hvb:1.8.0"},
         **{**ends, "release_before": OLD}, release_after=NEW, attempted=NEW)  # fmt: skip
    _run(path, "r2", "deploy", 10, status="rolled_back", params={"image": "hvb:1.9.0", "supervisor": "bob@example.com"},
         **ends, release_after=NEW, attempted=attempt)  # fmt: skip
    _run(path, "r3", "rollback", 20, status="succeeded", params={"to": "td:1", "reason": "errors", "incident": "INC-4"},
         **ends, release_after=OLD)  # fmt: skip
    _run(path, "r4", "deploy", 30, status="running", params={"image": "hvb:2.0.0"})
    return path


def test_typed_accessors_read_what_the_events_say(log: Path) -> None:
    r1, r2, r3, r4 = load_runs(log)
    assert (r1.image, r1.image_before, r1.image_after, r1.attempted) == ("hvb:1.8.0", "hvb:1.7.0", "hvb:1.8.0", NEW)
    assert (r2.image, r2.image_after, r2.supervisor) == ("hvb:1.9.0", "hvb:1.8.0", "bob@example.com")
    assert r2.attempted == {"id": "td:3", "image": "hvb:1.9.0"}
    assert r3.requested == Requested(to="td:1", reason="errors", incident="INC-4")
    assert (r3.image, r3.image_after, r3.attempted, r3.supervisor) == ("hvb:1.7.0", "hvb:1.7.0", None, None)
    assert (r4.status, r4.image, r4.image_before, r4.image_after) == ("running", "hvb:2.0.0", None, "hvb:2.0.0")
    assert r1.started_at == T0


def test_requested_reads_only_mappings() -> None:
    assert Requested.of(None) == Requested.of(["image"]) == Requested()
    assert Requested.of({"image": "", "to": None, "reason": 3}) == Requested(reason="3")


def test_newest_first_with_limit_and_since(log: Path) -> None:
    runs = load_runs(log)
    assert [r.run for r in runs] == ["r1", "r2", "r3", "r4"]  # computations read oldest first
    assert [r.run for r in newest_first(runs)] == ["r4", "r3", "r2", "r1"]
    assert [r.run for r in newest_first(runs, limit=2)] == ["r4", "r3"]
    assert [r.run for r in newest_first(runs, since=T0 + timedelta(minutes=10))] == ["r4", "r3", "r2"]
    assert [r.run for r in runs] == ["r1", "r2", "r3", "r4"]  # the input list is left alone
    odd = RunSummary("r0", "deploy", "staging", "a", "not a time")
    assert newest_first([odd], since=T0) == []


def test_releases_are_newest_first_in_the_words_runs_use(log: Path) -> None:
    runs = load_runs(log)
    history = release_history(runs, "staging")
    assert [(r.run, r.image, r.verdict, r.status, r.verified) for r in history] == [
        ("r3", "hvb:1.7.0", "verified", "succeeded", True),
        ("r2", "hvb:1.9.0", "rolled back", "rolled_back", True),
        ("r1", "hvb:1.8.0", "verified", "succeeded", True),
    ]
    statuses = {r.status for r in history} | {r.status for r in runs}
    assert statuses <= set(RUN_STATUSES)
    assert {r.run: r.status for r in runs} == {
        "r1": "succeeded",
        "r2": "rolled_back",
        "r3": "succeeded",
        "r4": "running",
    }


def test_summaries_ignore_other_steps(log: Path) -> None:
    events = [{"step": "pre-deploy", "run": "x", "status": "passed"}]
    assert summarize(events) == []
