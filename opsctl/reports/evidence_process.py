"""Maturity evidence from the configuration and the process: health checks, docs, SLOs, incidents, reviews."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from opsctl.reports.held import reviews_held
from opsctl.reports.maturity import Criterion
from opsctl.reports.response import incidents_in

if TYPE_CHECKING:
    from opsctl.workspace import Workspace

REVIEW_WEEKS = 4  # regular: a review recorded in at least 3 of the last 4 weeks
REVIEW_WEEKS_NEEDED = 3
QUARTER = 92 * 86400.0


def health_checks(ws: Workspace) -> Criterion:
    title = "Basic monitoring and alerting: health checks"
    envs = ws.config.environments
    missing = [n for n, e in envs.items() if e.health is None or not e.health.base_url]
    if not envs:
        return Criterion("health-checks", 1, title, "not met", "no environment in opsctl.yaml", "add environments")
    if missing:
        return Criterion(
            "health-checks",
            1,
            title,
            "not met",
            f"no health check for {', '.join(missing)}",
            f"set environments.{missing[0]}.health.base_url in opsctl.yaml (verification probes it after every change)",
        )
    return Criterion(
        "health-checks",
        1,
        title,
        "met",
        f"every environment has a health check ({', '.join(envs)}), probed after every change",
    )


def runbooks_and_docs(ws: Workspace, pages: Mapping[str, str] | None) -> Criterion:
    """The change runbooks load, and the generated docs in the project match them (`opsctl docs --check`)."""
    from opsctl.engine.loader import find, load_runbook
    from opsctl.errors import OpsctlError

    title = "Comprehensive runbooks and procedures, docs fresh"
    project = ws.config.project_dir
    found, problems = [], []
    for name in ("deploy", "rollback", "hot-patch"):
        try:
            load_runbook(name, project)
            source = find("runbooks", name, project)
            found.append(f"{name} ({'project' if source.path.is_relative_to(project.resolve()) else 'built-in'})")
        except OpsctlError as exc:
            problems.append(str(exc))
    if problems:
        return Criterion("runbooks-docs", 2, title, "not met", "; ".join(problems), "fix the runbook files named above")
    runbooks = f"runbooks {', '.join(found)} load"
    if pages is None:
        return Criterion(
            "runbooks-docs", 2, title, "no evidence", f"{runbooks}; docs not checked", "run `opsctl docs --check`"
        )
    from opsctl.docs import sync_docs

    result = sync_docs(pages, project, check=True)
    if result.changed:
        stale = ", ".join(result.changed[:4]) + (" ..." if len(result.changed) > 4 else "")
        return Criterion(
            "runbooks-docs",
            2,
            title,
            "not met",
            f"{runbooks}; {len(result.changed)} doc page(s) missing or stale: {stale}",
            "run `opsctl docs`, commit the pages, and add `opsctl docs --check` to CI",
        )
    return Criterion(
        "runbooks-docs", 2, title, "met", f"{runbooks}; {len(result.unchanged)} doc pages current (`docs --check`)"
    )


def slo_measured(ws: Workspace, now: datetime) -> tuple[Criterion, bool]:
    """SLO targets defined and measured from real traffic; also whether any source counted requests."""
    from opsctl.slo.context import EnvLook
    from opsctl.slo.periods import report_budgets
    from opsctl.slo.sources import has_source

    title = "Proactive monitoring with defined SLIs/SLOs"
    slo = ws.config.slo
    targets = f"SLO availability {slo.availability:.3%}, p95 {slo.p95_ms:.0f} ms, error rate {slo.error_rate:.1%}"
    sourced = [n for n in ws.config.environments if has_source(EnvLook(ws.config, n, ws.redactor, ws.clock))]
    if not sourced:
        return Criterion(
            "slo-measured",
            2,
            title,
            "not met",
            f"{targets}; no environment has a source of request counts",
            "set environments.ENV.health.prometheus_url (or health.cloudwatch) to measure the SLO on real traffic",
        ), False
    start = now - timedelta(seconds=slo.period)
    budgets = report_budgets(ws.config, ws.redactor, ws.clock, sourced, start=start, end=now)
    counted = {n: p[0] for n, p in budgets.items() if p and p[0].budget is not None and p[0].budget.counts.total > 0}
    if counted:
        shown = ", ".join(
            f"{n} {p.budget.counts.total:.0f} requests, budget spent {p.spent_text}"
            for n, p in counted.items()
            if p.budget
        )
        return Criterion("slo-measured", 2, title, "met", f"{targets}; measured from real traffic: {shown}"), True
    why = "; ".join(f"{n}: {p[0].why or 'no requests counted'}" for n, p in budgets.items() if p) or "no answer"
    return Criterion(
        "slo-measured",
        2,
        title,
        "not met",
        f"{targets}; sources in {', '.join(sourced)} counted no traffic ({why})",
        "check the source with `opsctl slo ENV`",
    ), False


def incident_process(ws: Workspace, start: datetime, now: datetime, days: str) -> Criterion:
    title = "Standardized incident response (post-mortems written)"
    incidents = incidents_in(ws.audit.path, start, now)
    if not incidents:
        return Criterion(
            "incident-process",
            2,
            title,
            "no evidence",
            f"no incident opened with `opsctl incident open` in the last {days}",
            "open every production incident with `opsctl incident open` so its response is measured",
        )
    required = [i for i in incidents if i.policy.postmortem_required and i.resolved_at is not None]
    missing = [i.id for i in required if i.postmortem is None and i.postmortem_overdue(now)]
    on_time = sum(1 for i in incidents if not i.acknowledge_measure(now).breached)
    written = sum(1 for i in required if i.postmortem is not None)
    evidence = (
        f"{len(incidents)} incident(s) in the last {days}, {on_time} answered within target; "
        f"{written} of {len(required)} resolved P0/P1 with a post-mortem"
    )
    if missing:
        return Criterion(
            "incident-process",
            2,
            title,
            "not met",
            f"{evidence}; overdue: {', '.join(missing)}",
            f"write them: `opsctl incident postmortem {missing[0]}`",
        )
    return Criterion("incident-process", 2, title, "met", evidence)


def reviews(ws: Workspace, now: datetime) -> Criterion:
    title = "Regular operational reviews"
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    first = monday - timedelta(weeks=REVIEW_WEEKS - 1)
    held = reviews_held(ws.audit.path, first, now + timedelta(seconds=1))
    if not reviews_held(ws.audit.path):
        return Criterion(
            "reviews-held",
            2,
            title,
            "no evidence",
            "no review recorded",
            "hold the weekly review with `opsctl review weekly --send` (or --out FILE): it is recorded",
        )
    weeks = {(h.at - first).days // 7 for h in held}
    evidence = f"reviews recorded in {len(weeks)} of the last {REVIEW_WEEKS} weeks ({len(held)} in all)"
    if len(weeks) >= REVIEW_WEEKS_NEEDED:
        return Criterion("reviews-held", 2, title, "met", evidence)
    return Criterion("reviews-held", 2, title, "not met", evidence, "hold `opsctl review weekly` every week")


def predictive(ws: Workspace, measured: bool) -> Criterion:
    title = "Predictive monitoring and alerting (burn-rate policy)"
    policy = ws.config.slo.policy
    if not measured:
        return Criterion(
            "predictive-alerting",
            3,
            title,
            "not met",
            "no SLO measured from real traffic: burn rates cannot be computed",
            "measure the SLO first (health.prometheus_url or health.cloudwatch)",
        )
    if policy != "enforce":
        return Criterion(
            "predictive-alerting",
            3,
            title,
            "not met",
            f"burn rates are measured; slo.policy is {policy}",
            "set slo.policy: enforce so a fast burn stops normal changes before the budget is gone",
        )
    return Criterion(
        "predictive-alerting",
        3,
        title,
        "met",
        "burn rates measured; slo.policy: enforce stops normal changes on a fast burn",
    )


def automated_response(ws: Workspace) -> Criterion:
    title = "Automated incident response (paging)"
    paging = ws.config.notify.pagerduty is not None
    oncall = ws.config.oncall is not None
    if paging and oncall:
        return Criterion(
            "automated-response",
            3,
            title,
            "met",
            "failed rollbacks and incidents page PagerDuty; on-call is configured",
        )
    lacking = [name for name, ok in (("notify.pagerduty", paging), ("oncall", oncall)) if not ok]
    return Criterion(
        "automated-response",
        3,
        title,
        "not met",
        f"not configured: {', '.join(lacking)}",
        "configure notify.pagerduty and oncall in opsctl.yaml so failures page the on-call without a person",
    )


def improvement(ws: Workspace, now: datetime) -> Criterion:
    title = "Continuous improvement processes (quarterly reviews)"
    held = [
        h
        for h in reviews_held(ws.audit.path, now - timedelta(seconds=QUARTER), now + timedelta(seconds=1))
        if h.kind == "quarterly"
    ]
    if held:
        return Criterion(
            "improvement", 3, title, "met", f"quarterly review {held[-1].period} recorded on {held[-1].at:%Y-%m-%d}"
        )
    return Criterion(
        "improvement",
        3,
        title,
        "not met",
        "no quarterly review recorded in the last 92 days",
        "hold `opsctl review quarterly --out reviews/QUARTER.md` and act on its trends",
    )


def tracing() -> Criterion:
    return Criterion(
        "tracing",
        3,
        "Advanced observability and tracing",
        "no evidence",
        "opsctl cannot see tracing",
        "judge it by hand: are requests traced across the bot, the database and the OpenAI and WhatsApp APIs?",
        observable=False,
    )
