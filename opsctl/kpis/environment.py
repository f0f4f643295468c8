"""One environment's deploy figures (DORA): its runs read once, counted, and its change failures found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise

from opsctl.audit.query import RunSummary
from opsctl.kpis.model import EnvReport
from opsctl.kpis.recovery import Recoveries, change_failure
from opsctl.kpis.waivers import Waived

DEPLOY_RUNBOOKS = frozenset({"deploy", "hot-patch"})
RECOVERY_RUNBOOKS = frozenset({"deploy", "rollback", "hot-patch"})
UNFINISHED = frozenset({"running", "interrupted", "error"})


def event_time(text: object) -> datetime:
    """An event's ``ts``."""
    # Python 3.11 reads the "Z" suffix itself; three times faster than parse_ts on 100,000s of runs.
    return datetime.fromisoformat(str(text))


@dataclass(frozen=True)
class Window:
    """The report's window: its ends, its UTC days, and its length in days."""

    start: datetime
    end: datetime
    days: tuple[date, ...]
    days_long: float


def env_report(
    name: str,
    runs: list[RunSummary],
    rollback_starts: dict[str, datetime],
    window: Window,
    waivers: tuple[Waived, ...] = (),
) -> EnvReport:
    """The KPIs of environment ``name`` from its runs (oldest first) over ``window``."""
    # One pass over the runs (oldest first; each summary is read once, which on 100,000s of runs is what keeps
    # the cost linear), then the failures among the counted deploys look forward for their remedy and recovery.
    recoveries: list[tuple[datetime, str]] = []
    remedied: dict[str, RunSummary] = {}
    candidate: RunSummary | None = None  # the newest succeeded deploy not yet superseded or remedied
    counted: list[tuple[RunSummary, datetime]] = []
    per_day = [0] * len(window.days)
    succeeded = dry_runs = stopped = unfinished = 0
    for run in runs:
        end = event_time(run.finished or run.started)
        if end > window.end:
            continue  # a report as of an earlier moment: this had not happened yet
        status, runbook = run.status, run.runbook
        attempted = run.attempted is not None
        if status == "succeeded" and run.verified and run.finished and not run.dry_run:
            recoveries.append((end, run.run))
        if not run.dry_run:
            deploy = runbook in DEPLOY_RUNBOOKS and status not in UNFINISHED and attempted
            if candidate is not None and (runbook == "rollback" or (runbook == "hot-patch" and deploy)):
                remedied[candidate.run] = run
                candidate = None
            if deploy and status == "succeeded":
                candidate = run
            elif deploy and status != "rolled_back":  # failed or rollback_failed: its own release now runs
                candidate = None
        if runbook not in DEPLOY_RUNBOOKS or end < window.start:
            continue
        if run.dry_run:
            dry_runs += 1
        elif status in UNFINISHED:
            unfinished += 1
        elif not attempted:
            stopped += 1
        else:
            counted.append((run, end))
            succeeded += status == "succeeded"
            per_day[(end.date() - window.days[0]).days] += 1
    recoveries.sort()  # already in order but for runs that overlapped
    verified = Recoveries([moment for moment, _ in recoveries], [run for _, run in recoveries])
    found = (
        change_failure(run, end, remedied.get(run.run), rollback_starts.get(run.run), verified) for run, end in counted
    )
    failures = [failure for failure in found if failure is not None]
    failures.sort(key=lambda f: f.failed_at)
    gaps = tuple((b.failed_at - a.failed_at).total_seconds() for a, b in pairwise(failures))
    return EnvReport(
        name,
        window.days_long,
        len(counted),
        succeeded,
        dry_runs,
        stopped,
        unfinished,
        tuple(per_day),
        tuple(failures),
        gaps,
        waivers,
    )
