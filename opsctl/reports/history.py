"""What the report's charts show, per UTC week (Monday first) of the window, from the audit log.

The figures follow :mod:`opsctl.kpis.figures` exactly (the same deploys, the
same change failures, the same recoveries): this module only cuts them by
week. A deploy counts in the week it ended; a change failure and its time to
recover in the week it was found failed.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from opsctl.audit.query import RunSummary, summarize
from opsctl.kpis.figures import DEPLOY_RUNBOOKS, FAILED, UNFINISHED, Report

OUTCOMES = ("succeeded", "rolled back", "failed")  # how a counted deploy ended, in chart order
_OUTCOME_OF = {"succeeded": "succeeded", "rolled_back": "rolled back"}


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def weeks_between(start: datetime, end: datetime) -> tuple[date, ...]:
    """The Mondays of every week the window touches, oldest first."""
    first, last = week_of(start.date()), week_of(end.date())
    return tuple(first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1))


@dataclass(frozen=True)
class Deploy:
    """A counted deploy (as the report counts it): where, when it ended, how, which image."""

    run: str
    env: str
    ended: datetime
    outcome: str  # one of OUTCOMES
    image: str | None
    verified: bool


@dataclass(frozen=True)
class History:
    """The window's weeks and what happened in each."""

    weeks: tuple[date, ...]
    environments: tuple[str, ...]
    deploys: tuple[Deploy, ...]

    def index(self, moment: datetime) -> int | None:
        """The position of ``moment``'s week in ``weeks`` (None outside the window)."""
        at = (week_of(moment.date()) - self.weeks[0]).days // 7
        return at if 0 <= at < len(self.weeks) else None

    def outcomes(self, env: str) -> dict[str, list[int]]:
        """Deploys of ``env`` per week, by outcome."""
        counts = {outcome: [0] * len(self.weeks) for outcome in OUTCOMES}
        for deploy in self.deploys:
            at = self.index(deploy.ended)
            if deploy.env == env and at is not None:
                counts[deploy.outcome][at] += 1
        return counts

    def per_week(self, env: str | None = None) -> list[int]:
        """Counted deploys per week (of ``env``, or all)."""
        counts = [0] * len(self.weeks)
        for deploy in self.deploys:
            at = self.index(deploy.ended)
            if at is not None and (env is None or deploy.env == env):
                counts[at] += 1
        return counts

    def failure_rate(self, report: Report) -> list[float | None]:
        """Change failures found in a week / deploys that ended in it, in percent (None: no deploy)."""
        failures = [0] * len(self.weeks)
        for failure in report.total.failures:
            at = self.index(failure.failed_at)
            if at is not None:
                failures[at] += 1
        return [None if n == 0 else 100.0 * f / n for f, n in zip(failures, self.per_week(), strict=True)]

    def mttr_hours(self, report: Report) -> list[float | None]:
        """Mean time to recover of the failures found in each week, in hours (None: none recovered)."""
        found: list[list[float]] = [[] for _ in self.weeks]
        for failure in report.total.recovered:
            at = self.index(failure.failed_at)
            if at is not None and failure.recovery_s is not None:
                found[at].append(failure.recovery_s / 3600)
        return [statistics.fmean(values) if values else None for values in found]


def history_of(events: Iterable[dict[str, Any]], report: Report) -> History:
    """The counted deploys of ``events`` (run-level events suffice) in ``report``'s window and environments."""
    names = tuple(row.env for row in report.environments)
    deploys = tuple(d for d in (counted(run, report) for run in summarize(events)) if d is not None and d.env in names)
    return History(weeks_between(report.start, report.end), names, deploys)


def counted(run: RunSummary, report: Report) -> Deploy | None:
    """``run`` as a deploy the report counts, or None (a dry run, stopped at its gates, unfinished, outside)."""
    if run.runbook not in DEPLOY_RUNBOOKS or run.dry_run or run.status in UNFINISHED or run.attempted is None:
        return None
    ended = datetime.fromisoformat(run.finished or run.started)
    if not report.start <= ended <= report.end:
        return None
    if run.status not in FAILED and run.status != "succeeded":
        return None
    outcome = _OUTCOME_OF.get(run.status, "failed")
    return Deploy(run.run, run.env, ended, outcome, run.image, run.verified)


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None
