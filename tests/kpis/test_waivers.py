"""Waived gates in ``opsctl report``: per environment, inside the window, never from dry runs or checklist runs."""

from __future__ import annotations

import pytest

from opsctl.audit.log import Journal
from opsctl.kpis.figures import report_from_log
from tests.kpis.logbook import Logbook, at

NOW = at("11-27 12:00")
MONTH = 30 * 86400
LEAD = "lead@example.com"


def waive(  # noqa: PLR0917 - reads like a row of the fixture's table: run, runbook, env, when, item, why
    book: Logbook, run: str, runbook: str, env: str, moment: str, item: str, reason: str
) -> None:
    """A waived manual item's event, as the checklist executor journals it."""
    journal = Journal(book.log, run, runbook, env, book.actor, {})
    book.clock.now = at(moment)
    journal.event(
        f"pre-deploy/{item}",
        "waived",
        title=item,
        uses="manual",
        summary=f"waived by {book.actor}, approved by {LEAD}: {reason}",
        blocking=True,
        attempts=1,
        duration_ms=0,
        detail={"waived_by": book.actor, "approved_by": [LEAD], "reason": reason},
    )


@pytest.fixture
def waived(book: Logbook) -> Logbook:
    book.run("old", "deploy", "staging", "10-01 10:00", "10-01 10:20", "succeeded")
    waive(book, "old", "deploy", "staging", "10-01 10:05", "security-scan", "before the window")
    book.run("s1", "deploy", "staging", "11-02 10:00", "11-02 10:20", "succeeded")
    waive(book, "s1", "deploy", "staging", "11-02 10:05", "security-scan", "scanner down")
    waive(book, "s1", "deploy", "staging", "11-02 10:05", "performance-tests", "scanner down")
    book.run("p1", "deploy", "production", "11-06 10:00", "11-06 10:40", "failed", attempted=False)
    waive(book, "p1", "deploy", "production", "11-06 10:02", "performance-tests", "load env down")
    book.run("dry", "deploy", "production", "11-07 10:00", "11-07 10:05", "succeeded", attempted=False, dry_run=True)
    waive(book, "dry", "deploy", "production", "11-07 10:01", "security-scan", "only a dry run")
    waive(book, "c1", "checklist:pre-deploy", "staging", "11-08 10:00", "security-scan", "a checklist run")
    return book


def test_waivers_are_counted_per_environment_with_who_and_why(waived: Logbook) -> None:
    result = report_from_log(waived.path, now=NOW, since_s=MONTH, environments=["staging", "production"])

    staging, production = result.environments
    assert [(w.run, w.item, w.reason) for w in staging.waivers] == [
        ("s1", "security-scan", "scanner down"),
        ("s1", "performance-tests", "scanner down"),
    ]
    # A run its gates stopped still went past a gate someone waived: it counts.
    assert [(w.run, w.item) for w in production.waivers] == [("p1", "performance-tests")]
    assert len(result.total.waivers) == 3
    assert production.as_dict()["waived"] == [
        {
            "run": "p1",
            "env": "production",
            "runbook": "deploy",
            "item": "performance-tests",
            "at": "2026-11-06T10:02:00.000Z",
            "actor": "dev@example.com",
            "reason": "load env down",
            "approved_by": [LEAD],
        }
    ]
    assert (staging.as_dict()["waivers"], result.total.as_dict()["waivers"]) == (2, 3)


def test_one_environment_only(waived: Logbook) -> None:
    result = report_from_log(waived.path, now=NOW, since_s=MONTH, env="production", environments=["staging"])

    (production,) = result.environments
    assert [w.run for w in production.waivers] == ["p1"]
    assert [w.run for w in result.total.waivers] == ["p1"]


def test_no_waivers_is_an_empty_list(book: Logbook) -> None:
    book.run("s1", "deploy", "staging", "11-02 10:00", "11-02 10:20", "succeeded")

    data = report_from_log(book.path, now=NOW, since_s=MONTH).as_dict()
    assert (data["total"]["waivers"], data["total"]["waived"]) == (0, [])
