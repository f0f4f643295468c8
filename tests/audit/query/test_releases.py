"""Releases as the log saw them: verdicts, the verified ones a rollback may choose, and the last word on one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opsctl.audit.log import AuditLog, Journal
from opsctl.audit.query import last_judged, last_verified, load_runs, release_history, verified_releases

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
V1 = {"id": "td:1", "image": "hvb:1.7.0"}
V2 = {"id": "td:2", "image": "hvb:1.8.0"}
V3 = {"id": "td:3", "image": "hvb:1.9.0"}


def _run(path: Path, run: str, minute: int, status: str, **end: Any) -> None:
    journal = Journal(AuditLog(path, clock=lambda: T0 + timedelta(minutes=minute)), run, "deploy", "staging", "ana")
    journal.event("run", "started", params={}, dry_run=False)
    if status != "running":
        journal.event("run", status, **end)


def test_a_run_stopped_before_its_verdict_is_not_a_failure(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    _run(log, "r1", 0, "succeeded", release_after=V1, verified=True)
    _run(log, "r2", 1, "interrupted", attempted=V2)
    _run(log, "r3", 2, "failed", attempted=V3)

    history = release_history(load_runs(log), "staging")

    assert [(r.run, r.verdict, r.bad) for r in history] == [
        ("r3", "failed", True),
        ("r2", "interrupted", False),
        ("r1", "verified", False),
    ]


def test_verified_releases_are_newest_first_without_the_excluded_or_later_broken(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    _run(log, "r1", 0, "succeeded", release_after=V1, verified=True)
    _run(log, "r2", 1, "succeeded", release_after=V2, verified=True)
    _run(log, "r3", 2, "succeeded", release_after=V3, verified=True)
    _run(log, "r4", 3, "rolled_back", attempted={"id": "td:4", "image": "hvb:1.8.0"}, release_after=V3)
    runs = load_runs(log)

    chosen = [r.run for r in verified_releases(runs, "staging", exclude_ids={"td:3"})]

    assert chosen == ["r1"]  # hvb:1.8.0 was found broken after r2 verified it
    assert last_verified(runs, "staging", exclude_ids={"td:3"}) == next(
        verified_releases(runs, "staging", exclude_ids={"td:3"})
    )


def test_last_judged_is_the_newest_verdict_on_a_release_by_id_or_image(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    _run(log, "r1", 0, "failed", attempted=V2)
    _run(log, "r2", 1, "succeeded", release_after=V2, verified=True)  # deployed again, verified this time
    _run(log, "r3", 2, "rolled_back", attempted=V3, release_after=V2)
    _run(log, "r4", 3, "interrupted", attempted=V3)
    runs = load_runs(log)

    judged_v2 = last_judged(runs, "staging", "td:2", "other")
    judged_v3 = last_judged(runs, "staging", "other", "hvb:1.9.0")
    assert judged_v2 is not None
    assert (judged_v2.run, judged_v2.bad) == ("r2", False)
    assert judged_v3 is not None
    assert (judged_v3.run, judged_v3.verdict, judged_v3.bad) == ("r3", "rolled back", True)
    assert last_judged(runs, "staging", "td:9", "hvb:9") is None
    assert last_judged(runs, "production", "td:2", "hvb:1.8.0") is None
