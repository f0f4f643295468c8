"""``opsctl report``: the operational-maturity KPIs, computed from the audit log.

Every figure is per environment over the window ``[now - since, now]`` and
can be checked by hand with ``opsctl runs --env ENV --json`` (verdicts,
times) and ``opsctl audit show --run ID`` (a run's events). Only the
built-in runbook names count: ``deploy``, ``hot-patch`` and ``rollback``.

Deploy
    A run of ``deploy`` or ``hot-patch`` that reached its rollout (its
    terminal ``run`` event records an ``attempted`` release), is not a dry
    run, has a final verdict, and finished inside the window. Not deploys,
    reported apart: dry runs, runs stopped before the rollout (their gates
    or policies said no: the process working, not a change failing), and
    runs without a final verdict (running, interrupted, error).
Deployment frequency
    deploys / days in the window; also deploys per UTC day (the sparkline).
Deployment success rate
    deploys that ended ``succeeded`` / deploys.
Change failure
    A deploy that ended ``rolled_back``, ``rollback_failed``, ``failed`` or ``needs_human``; or
    one that ended ``succeeded`` and was then remedied: the next relevant run
    in its environment is a ``rollback`` (any verdict, not a dry run) or a
    ``hot-patch`` deploy. A later deploy that ended succeeded, failed or
    rollback_failed supersedes it (a newer release then runs; what follows
    is about that one); a later deploy that was ``rolled_back`` does not (its
    rollback put the older release back).
Change failure rate
    change failures / deploys.
Failed at
    When the change was found failed: the first event of its automatic
    rollback (events carrying ``rollback_of``) when it had one; else the
    run's end (for a remedied success: when it went live, so the time to
    recover includes the time until someone noticed).
Recovered at
    ``rolled_back``: the run's own end (its rollback was verified). Else the
    end of the first run in the environment ending after "failed at" that is
    a deploy, rollback or hot-patch ending ``succeeded`` and ``verified``.
MTTR
    mean of (recovered at - failed at) over change failures with a recovery;
    failures not recovered yet are counted as open and not averaged.
MTBF
    mean gap between successive "failed at" times in one environment (needs
    two failures); the all-environments figure pools every environment's gaps.
Waivers
    manual gates let through without being done (``--waive ID``), each with
    its reason and approvers: the ``waived`` item events of deploy, hot-patch
    and rollback runs (not dry runs) recorded inside the window. Not a failure
    of the change, but a lead wants to see how often the process is bent.

Incident-based figures (incident opened -> resolved) are a separate seam:
:class:`Report` has an ``incidents`` section that stays ``None`` until an
:data:`IncidentSource` is passed to :func:`build_report`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain, pairwise
from pathlib import Path
from typing import Any

from opsctl.audit.line import format_ts
from opsctl.audit.query import RUN_MARK, RunSummary, collector_paused, read_events, summarize
from opsctl.kpis.waivers import WAIVED_MARK, Waived, waivers_by_env

DEPLOY_RUNBOOKS = frozenset({"deploy", "hot-patch"})
RECOVERY_RUNBOOKS = frozenset({"deploy", "rollback", "hot-patch"})
UNFINISHED = frozenset({"running", "interrupted", "error"})
FAILED = {
    "rolled_back": "rolled back automatically",
    "rollback_failed": "its automatic rollback failed",
    "failed": "failed after its rollout (no rollback)",
    "needs_human": "left the service in a state that needed a human",
}
ROLLBACK_MARK = b'"rollback_of":"'
MARKS = (RUN_MARK, ROLLBACK_MARK, WAIVED_MARK)  # the lines the report reads
REPORT_VERSION = 1


@dataclass(frozen=True)
class ChangeFailure:
    run: str
    env: str
    runbook: str
    image: str | None
    why: str
    failed_at: datetime
    recovered_at: datetime | None
    recovered_by: str | None  # the run whose verified end restored service

    @property
    def recovery_s(self) -> float | None:
        return None if self.recovered_at is None else (self.recovered_at - self.failed_at).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "env": self.env,
            "runbook": self.runbook,
            "image": self.image,
            "why": self.why,
            "failed_at": format_ts(self.failed_at),
            "recovered_at": format_ts(self.recovered_at) if self.recovered_at else None,
            "recovered_by": self.recovered_by,
            "recovery_s": self.recovery_s,
        }


@dataclass(frozen=True)
class EnvReport:
    """The KPIs of one environment (or of all: ``env == "all"``) over the window."""

    env: str
    window_days: float
    deploys: int
    succeeded: int
    dry_runs: int
    stopped_before_rollout: int
    unfinished: int
    per_day: tuple[int, ...]  # deploys per UTC day of the window, oldest first
    failures: tuple[ChangeFailure, ...]
    failure_gaps_s: tuple[float, ...]  # between successive failures of one environment (MTBF)
    waivers: tuple[Waived, ...] = ()  # manual gates waived in the window, oldest first

    @property
    def frequency_per_day(self) -> float:
        return self.deploys / self.window_days

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.deploys if self.deploys else None

    @property
    def change_failure_rate(self) -> float | None:
        return len(self.failures) / self.deploys if self.deploys else None

    @property
    def recovered(self) -> tuple[ChangeFailure, ...]:
        return tuple(f for f in self.failures if f.recovered_at is not None)

    @property
    def mttr_s(self) -> float | None:
        times = [f.recovery_s for f in self.recovered if f.recovery_s is not None]
        return sum(times) / len(times) if times else None

    @property
    def mtbf_s(self) -> float | None:
        return sum(self.failure_gaps_s) / len(self.failure_gaps_s) if self.failure_gaps_s else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "deploys": self.deploys,
            "succeeded": self.succeeded,
            "change_failures": len(self.failures),
            "recovered": len(self.recovered),
            "open_failures": len(self.failures) - len(self.recovered),
            "deployment_frequency_per_day": self.frequency_per_day,
            "deployment_success_rate": self.success_rate,
            "change_failure_rate": self.change_failure_rate,
            "mttr_s": self.mttr_s,
            "mtbf_s": self.mtbf_s,
            "not_counted": {
                "dry_runs": self.dry_runs,
                "stopped_before_rollout": self.stopped_before_rollout,
                "unfinished": self.unfinished,
            },
            "deploys_per_day": list(self.per_day),
            "failures": [f.as_dict() for f in self.failures],
            "waivers": len(self.waivers),
            "waived": [w.as_dict() for w in self.waivers],
        }


@dataclass(frozen=True)
class IncidentStats:
    """Incident-based figures (from incident opened to resolved); filled by an :data:`IncidentSource`."""

    opened: int
    resolved: int
    mttr_s: float | None
    # Filled by opsctl.incidents.metrics.report_source: P0-P3 counts, the resolved P0/P1 incidents
    # that still lack a post-mortem, and the incidents that missed a response or resolution target.
    by_severity: dict[str, int] = field(default_factory=dict)
    missing_postmortems: tuple[str, ...] = ()
    breached: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "resolved": self.resolved,
            "mttr_s": self.mttr_s,
            "by_severity": dict(self.by_severity),
            "p0p1_without_postmortem": len(self.missing_postmortems),
            "missing_postmortems": list(self.missing_postmortems),
            "breached": list(self.breached),
        }


# (window start, window end, environment or None for all) -> incident figures.
IncidentSource = Callable[[datetime, datetime, str | None], IncidentStats]


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    since_s: float
    days: tuple[date, ...]  # the UTC days that ``per_day`` counts
    environments: tuple[EnvReport, ...]
    total: EnvReport
    incidents: IncidentStats | None = None  # None until an incident source is wired in

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "window": {
                "start": format_ts(self.start),
                "end": format_ts(self.end),
                "since_s": self.since_s,
                "days": [d.isoformat() for d in self.days],
            },
            "environments": [e.as_dict() for e in self.environments],
            "total": self.total.as_dict(),
            "incidents": self.incidents.as_dict() if self.incidents else None,
        }


def report_from_log(
    audit_path: Path,
    *,
    now: datetime,
    since_s: float,
    env: str | None = None,
    environments: Iterable[str] = (),
    incidents: IncidentSource | None = None,
) -> Report:
    """Read the audit log once (run, automatic-rollback and waived-gate events only) and build the report."""
    return report_from_events(
        read_events(audit_path, MARKS),
        now=now,
        since_s=since_s,
        env=env,
        environments=environments,
        incidents=incidents,
    )


def report_from_events(
    events: Iterable[dict[str, Any]],
    *,
    now: datetime,
    since_s: float,
    env: str | None = None,
    environments: Iterable[str] = (),
    incidents: IncidentSource | None = None,
) -> Report:
    """The report of ``events`` (oldest first): one log's, or the team's merged history (``report --remote``)."""
    rollback_starts: dict[str, datetime] = {}
    waived: list[Waived] = []

    def run_events(events: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        # One pass: run events go on to summarize(); automatic rollbacks' starts and waivers are noted on the way.
        for event in events:
            if event.get("step") == "run":
                # Checklist runs and other environments never count: drop them before they are summarised.
                if event.get("runbook") in RECOVERY_RUNBOOKS and (env is None or event.get("env") == env):
                    yield event
            elif event.get("status") == "waived" and event.get("uses"):
                waived.append(Waived.of(event))
            elif "rollback_of" in event and event.get("run") not in rollback_starts:
                rollback_starts[str(event.get("run"))] = _ts(event.get("ts"))

    with collector_paused():
        runs = summarize(run_events(events))
        report = build_report(
            runs,
            rollback_starts,
            now=now,
            since_s=since_s,
            env=env,
            environments=environments,
            incidents=incidents,
            waived=waived,
        )
        del runs  # freed by reference counting before the collector resumes, so it never walks them
    return report


def _ts(text: object) -> datetime:
    # Python 3.11 reads the "Z" suffix itself; three times faster than parse_ts on 100,000s of runs.
    return datetime.fromisoformat(str(text))


def build_report(
    runs: Iterable[RunSummary],
    rollback_starts: dict[str, datetime],
    *,
    now: datetime,
    since_s: float,
    env: str | None = None,
    environments: Iterable[str] = (),
    incidents: IncidentSource | None = None,
    waived: Iterable[Waived] = (),
) -> Report:
    """The KPIs of ``runs`` (oldest first); ``rollback_starts`` maps run ids to their automatic rollback's start.

    ``waived`` are the waived manual gates read from the log; those of the
    counted runs (not dry runs) inside the window are listed per environment.
    """
    start = now - timedelta(seconds=since_s)
    days = tuple(start.date() + timedelta(days=i) for i in range((now.date() - start.date()).days + 1))
    by_env: dict[str, list[RunSummary]] = {}
    real: set[str] = set()  # the runs whose waivers count: deploys, hot-patches and rollbacks, not dry runs
    for run in runs:
        if run.runbook in RECOVERY_RUNBOOKS and (env is None or run.env == env):
            by_env.setdefault(run.env, []).append(run)
            if not run.dry_run:
                real.add(run.run)
    waivers = waivers_by_env(waived, real, start, now)
    names = list(dict.fromkeys([e for e in environments if env is None or e == env] + ([env] if env else [])))
    names += sorted(set(by_env) - set(names))
    window = _Window(start, now, days, since_s / 86400)
    rows = tuple(
        _env_report(name, by_env.get(name, []), rollback_starts, window, waivers.get(name, ())) for name in names
    )
    total = EnvReport(
        "all",
        window.days_long,
        sum(r.deploys for r in rows),
        sum(r.succeeded for r in rows),
        sum(r.dry_runs for r in rows),
        sum(r.stopped_before_rollout for r in rows),
        sum(r.unfinished for r in rows),
        tuple(sum(day) for day in zip(*(r.per_day for r in rows), strict=True)) if rows else (0,) * len(days),
        tuple(sorted(chain.from_iterable(r.failures for r in rows), key=lambda f: f.failed_at)),
        tuple(chain.from_iterable(r.failure_gaps_s for r in rows)),
        tuple(sorted(chain.from_iterable(r.waivers for r in rows), key=lambda w: w.at)),
    )
    return Report(start, now, since_s, days, rows, total, incidents(start, now, env) if incidents else None)


@dataclass(frozen=True)
class _Window:
    start: datetime
    end: datetime
    days: tuple[date, ...]
    days_long: float


def _env_report(
    name: str,
    runs: list[RunSummary],
    rollback_starts: dict[str, datetime],
    window: _Window,
    waivers: tuple[Waived, ...] = (),
) -> EnvReport:
    # One pass over the runs (oldest first; each summary is read once, which on 100,000s of runs is what keeps
    # the cost linear), then the failures among the counted deploys look forward for their remedy and recovery.
    recoveries: list[tuple[datetime, str]] = []
    remedied: dict[str, RunSummary] = {}
    candidate: RunSummary | None = None  # the newest succeeded deploy not yet superseded or remedied
    counted: list[tuple[RunSummary, datetime]] = []
    per_day = [0] * len(window.days)
    succeeded = dry_runs = stopped = unfinished = 0
    for run in runs:
        end = _ts(run.finished or run.started)
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
    verified = _Recoveries([moment for moment, _ in recoveries], [run for _, run in recoveries])
    found = (_failure(run, end, remedied.get(run.run), rollback_starts.get(run.run), verified) for run, end in counted)
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


@dataclass(frozen=True)
class _Recoveries:
    """The verified ends in one environment, in time order: where a failure looks for its recovery."""

    times: list[datetime]
    runs: list[str]

    def first_after(self, moment: datetime) -> tuple[datetime, str] | None:
        at = bisect_right(self.times, moment)
        return (self.times[at], self.runs[at]) if at < len(self.times) else None


def _failure(
    run: RunSummary,
    finished: datetime,
    remedy: RunSummary | None,
    rollback_start: datetime | None,
    recoveries: _Recoveries,
) -> ChangeFailure | None:
    if run.status in FAILED:
        why = FAILED[run.status]
    elif remedy is not None:
        why = f"followed by {remedy.runbook} {remedy.run}"
    else:
        return None
    failed_at = rollback_start or finished if run.status != "succeeded" else finished
    recovered = (finished, run.run) if run.status == "rolled_back" else recoveries.first_after(failed_at)
    return ChangeFailure(
        run.run,
        run.env,
        run.runbook,
        run.image,
        why,
        failed_at,
        recovered[0] if recovered else None,
        recovered[1] if recovered else None,
    )
