"""The KPIs of a month of runs, each figure worked out by hand from the timestamps below.

Window: --since 30d, now = 2026-11-27 12:00 UTC (from 2026-10-28 12:00).

staging, deploys s1 s2 s5 s7 s8 (5; s0 is before the window, s3 a dry run, s4
stopped at its gates, s9 still running):
  succeeded 4 (s1 s5 s7 s8)                               -> success rate 4/5 = 80%
  failures: s2 rolled back: failed 11-03 09:20 (rollback began), recovered 09:30 = 600 s
            s5 followed by rollback s6: failed 11-05 14:25 (s5 ended), s6 verified 16:10 = 6300 s
                                                           -> change failure rate 2/5 = 40%
  MTTR (600 + 6300) / 2 = 3450 s
  MTBF one gap, 11-03 09:20 -> 11-05 14:25 = 2 d 5 h 05 m = 191100 s
  frequency 5 / 30 days
production, deploys p1 p2 p3 p6 (4; p7 interrupted):
  succeeded 2 (p1, hot-patch p2)                          -> 50%
  failures: p1 followed by hot-patch p2: failed 11-06 10:40, p2 verified 12:30 = 6600 s
            p3 rollback failed: failed 11-20 09:15 (rollback began); p4 failed, p5 verified 10:45 = 5400 s
            p6 failed after its rollout: failed 11-25 09:30, not recovered (open)
                                                           -> 3/4 = 75%
  MTTR (6600 + 5400) / 2 = 6000 s, 1 open
  MTBF gaps 11-06 10:40 -> 11-20 09:15 = 13 d 22 h 35 m = 1204500 s,
            11-20 09:15 -> 11-25 09:30 = 5 d 0 h 15 m = 432900 s  -> 818700 s
all: 9 deploys, 6 succeeded, 5 failures; MTTR 18900 / 4 = 4725 s; MTBF (191100 + 1204500 + 432900) / 3 = 609500 s
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from opsctl.kpis.figures import Report, report_from_log
from tests.kpis.logbook import Logbook, at

NOW = at("11-27 12:00")
MONTH = 30 * 86400


def report(book: Logbook, **kwargs: Any) -> Report:
    environments = ["development", "staging", "production"]
    return report_from_log(book.path, now=NOW, since_s=MONTH, environments=environments, **kwargs)


def test_staging(month: Logbook) -> None:
    staging = report(month).environments[1]
    assert staging.env == "staging"
    assert (staging.deploys, staging.succeeded) == (5, 4)
    assert (staging.dry_runs, staging.stopped_before_rollout, staging.unfinished) == (1, 1, 1)
    assert staging.success_rate == pytest.approx(0.8)
    assert staging.change_failure_rate == pytest.approx(0.4)
    assert staging.frequency_per_day == pytest.approx(5 / 30)
    assert [(f.run, f.why, f.recovered_by, f.recovery_s) for f in staging.failures] == [
        ("s2", "rolled back automatically", "s2", 600.0),
        ("s5", "followed by rollback s6", "s6", 6300.0),
    ]
    assert staging.mttr_s == 3450.0
    assert staging.mtbf_s == 191100.0


def test_production(month: Logbook) -> None:
    production = report(month).environments[2]
    assert (production.deploys, production.succeeded, production.unfinished) == (4, 2, 1)
    assert production.success_rate == 0.5
    assert production.change_failure_rate == 0.75
    assert [(f.run, f.why, f.failed_at, f.recovered_by, f.recovery_s) for f in production.failures] == [
        ("p1", "followed by hot-patch p2", at("11-06 10:40"), "p2", 6600.0),
        ("p3", "its automatic rollback failed", at("11-20 09:15"), "p5", 5400.0),
        ("p6", "failed after its rollout (no rollback)", at("11-25 09:30"), None, None),
    ]
    assert production.mttr_s == 6000.0
    assert len(production.failures) - len(production.recovered) == 1
    assert production.mtbf_s == 818700.0


def test_all_environments(month: Logbook) -> None:
    result = report(month)
    assert [e.env for e in result.environments] == ["development", "staging", "production"]
    development, total = result.environments[0], result.total
    assert (development.deploys, development.success_rate, development.mttr_s, development.mtbf_s) == (
        0,
        None,
        None,
        None,
    )
    assert (total.deploys, total.succeeded, len(total.failures)) == (9, 6, 5)
    assert total.change_failure_rate == pytest.approx(5 / 9)
    assert total.mttr_s == 4725.0
    assert total.mtbf_s == 609500.0
    assert [f.run for f in total.failures] == ["s2", "s5", "p1", "p3", "p6"]
    assert result.incidents is None


def test_deploys_per_day(month: Logbook) -> None:
    result = report(month)
    assert result.days[0].isoformat() == "2026-10-28"
    assert result.days[-1].isoformat() == "2026-11-27"
    per_day = dict(zip((d.isoformat()[5:] for d in result.days), result.total.per_day, strict=True))
    assert {day: n for day, n in per_day.items() if n} == {
        "11-02": 1,
        "11-03": 1,
        "11-05": 1,
        "11-06": 2,
        "11-10": 1,
        "11-12": 1,
        "11-20": 1,
        "11-25": 1,
    }


def test_one_environment(month: Logbook) -> None:
    result = report(month, env="production")
    assert [e.env for e in result.environments] == ["production"]
    assert result.total.deploys == 4


def test_a_shorter_window_counts_less(month: Logbook) -> None:
    result = report_from_log(month.path, now=NOW, since_s=7 * 86400)  # from 11-20 12:00
    assert result.total.deploys == 1  # p6
    assert [e.env for e in result.environments] == ["production", "staging"]  # found in the log, sorted


def test_a_report_as_of_an_earlier_moment_ignores_later_runs(month: Logbook) -> None:
    result = report_from_log(month.path, now=at("11-05 15:00"), since_s=MONTH)
    staging = next(e for e in result.environments if e.env == "staging")
    # s0..s5 (the window reaches back to 10-06); s5 is no failure yet: rollback s6 had not happened.
    assert (staging.deploys, [f.run for f in staging.failures]) == (4, ["s2"])


def test_a_rolled_back_deploy_does_not_supersede_the_release_it_put_back(book: Logbook) -> None:
    book.run("d1", "deploy", "staging", "11-02 10:00", "11-02 10:10", "succeeded")
    book.run("d2", "deploy", "staging", "11-03 10:00", "11-03 10:10", "rolled_back", rollback_at="11-03 10:05")
    book.run("r1", "rollback", "staging", "11-04 10:00", "11-04 10:10", "succeeded", attempted=False)
    failures = report(book).environments[1].failures
    assert [(f.run, f.why) for f in failures] == [
        ("d1", "followed by rollback r1"),
        ("d2", "rolled back automatically"),
    ]


def test_a_failed_deploy_takes_the_blame_for_what_follows(book: Logbook) -> None:
    book.run("d1", "deploy", "staging", "11-02 10:00", "11-02 10:10", "succeeded")
    book.run("d2", "deploy", "staging", "11-03 10:00", "11-03 10:10", "failed")
    book.run("r1", "rollback", "staging", "11-04 10:00", "11-04 10:10", "succeeded", attempted=False)
    failures = report(book).environments[1].failures
    assert [(f.run, f.recovered_by, f.recovery_s) for f in failures] == [("d2", "r1", 86400.0)]


def test_dry_run_rollbacks_blame_nobody(book: Logbook) -> None:
    book.run("d1", "deploy", "staging", "11-02 10:00", "11-02 10:10", "succeeded")
    book.run("r1", "rollback", "staging", "11-03 10:00", "11-03 10:01", "succeeded", attempted=False, dry_run=True)
    assert report(book).total.failures == ()


def test_an_empty_or_missing_log(book: Logbook) -> None:
    result = report(book)
    assert result.total.deploys == 0
    assert result.total.per_day == (0,) * 31
    assert (result.total.success_rate, result.total.change_failure_rate, result.total.mttr_s) == (None, None, None)


def test_the_incident_seam(month: Logbook) -> None:
    from opsctl.kpis.figures import IncidentStats

    seen = []

    def incidents(start: object, end: object, env: str | None) -> IncidentStats:
        seen.append((start, end, env))
        return IncidentStats(opened=2, resolved=1, mttr_s=1800.0)

    result = report(month, incidents=incidents)
    assert seen == [(NOW - timedelta(days=30), NOW, None)]
    assert result.incidents is not None
    assert result.as_dict()["incidents"].items() >= {"opened": 2, "resolved": 1, "mttr_s": 1800.0}.items()
