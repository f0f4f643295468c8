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

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any

from opsctl.audit.query import RUN_MARK, RunSummary, collector_paused, summarize, window_events
from opsctl.kpis.environment import DEPLOY_RUNBOOKS, RECOVERY_RUNBOOKS, UNFINISHED, Window, env_report, event_time
from opsctl.kpis.model import REPORT_VERSION, ChangeFailure, EnvReport, IncidentSource, IncidentStats, Report
from opsctl.kpis.recovery import FAILED
from opsctl.kpis.waivers import WAIVED_MARK, Waived, waivers_by_env

# The names callers import from here (opsctl.cli, opsctl.reports, opsctl.incidents) wherever they now live.
__all__ = [
    "DEPLOY_RUNBOOKS",
    "FAILED",
    "MARKS",
    "RECOVERY_RUNBOOKS",
    "REPORT_VERSION",
    "ROLLBACK_MARK",
    "UNFINISHED",
    "ChangeFailure",
    "EnvReport",
    "IncidentSource",
    "IncidentStats",
    "Report",
    "build_report",
    "report_from_events",
    "report_from_log",
]

ROLLBACK_MARK = b'"rollback_of":"'
MARKS = (RUN_MARK, ROLLBACK_MARK, WAIVED_MARK)  # the lines the report reads


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
        window_events(audit_path, MARKS, now - timedelta(seconds=since_s)),  # older runs change no figure
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
                rollback_starts[str(event.get("run"))] = event_time(event.get("ts"))

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
    window = Window(start, now, days, since_s / 86400)
    rows = tuple(
        env_report(name, by_env.get(name, []), rollback_starts, window, waivers.get(name, ())) for name in names
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
