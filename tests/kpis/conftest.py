from __future__ import annotations

from pathlib import Path

import pytest

from tests.kpis.logbook import Logbook


@pytest.fixture
def book(tmp_path: Path) -> Logbook:
    return Logbook(tmp_path / ".opsctl" / "audit.jsonl")


@pytest.fixture
def month(book: Logbook) -> Logbook:
    """Thirty days of staging and production, figures worked out by hand in test_kpis.py."""
    # staging
    book.run("s0", "deploy", "staging", "10-20 10:00", "10-20 10:20", "succeeded")  # before the window
    book.run("s1", "deploy", "staging", "11-02 10:00", "11-02 10:20", "succeeded")
    book.run("s2", "deploy", "staging", "11-03 09:00", "11-03 09:30", "rolled_back", rollback_at="11-03 09:20")
    book.run("s3", "deploy", "staging", "11-04 10:00", "11-04 10:05", "succeeded", attempted=False, dry_run=True)
    book.run("s4", "deploy", "staging", "11-04 11:00", "11-04 11:05", "failed", attempted=False)  # gates said no
    book.run("s5", "deploy", "staging", "11-05 14:00", "11-05 14:25", "succeeded")
    book.run("s6", "rollback", "staging", "11-05 16:00", "11-05 16:10", "succeeded", attempted=False)
    book.run("s7", "deploy", "staging", "11-10 08:00", "11-10 08:20", "succeeded")
    book.run("s8", "deploy", "staging", "11-12 08:00", "11-12 08:20", "succeeded")
    # production
    book.run("p1", "deploy", "production", "11-06 10:00", "11-06 10:40", "succeeded")
    book.run("p2", "hot-patch", "production", "11-06 12:00", "11-06 12:30", "succeeded", incident="INC-7")
    book.run("p3", "deploy", "production", "11-20 09:00", "11-20 09:30", "rollback_failed", rollback_at="11-20 09:15")
    book.run("p4", "rollback", "production", "11-20 10:00", "11-20 10:10", "failed", attempted=False)
    book.run("p5", "rollback", "production", "11-20 10:30", "11-20 10:45", "succeeded", attempted=False)
    book.run("p6", "deploy", "production", "11-25 09:00", "11-25 09:30", "failed")  # after the rollout, no rollback
    book.run("p7", "deploy", "production", "11-26 09:00", "11-26 09:10", "interrupted")
    book.run("s9", "deploy", "staging", "11-26 10:00", None, "running", attempted=False)  # no verdict yet
    return book
