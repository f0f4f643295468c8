"""The seed's regular reviews, built from the audit log: what each one looks at, as one typed result.

- weekly: the operational metrics of the week (the report's figures per
  environment, next to the week before), its change failures, incidents and
  waived gates;
- monthly: the incident retrospective: every incident opened in the month,
  its response against the targets, its post-mortem status and action items;
- quarterly: the process figures of the quarter against the quarter before
  (deploys, success rate, change failure rate, MTTR, MTBF, lead time,
  incidents, response on time, post-mortems written, gates waived, reviews held).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opsctl.incidents.model import Incident
from opsctl.kpis.figures import Report, report_from_log
from opsctl.reports import figures as fig
from opsctl.reports.periods import Period
from opsctl.reports.postmortems import PostmortemFile, read_postmortem
from opsctl.reports.response import incidents_in
from opsctl.reports.trends import Trend, quarter_trends

if TYPE_CHECKING:
    from opsctl.workspace import Workspace


@dataclass(frozen=True)
class IncidentReview:
    """One incident in the monthly retrospective."""

    incident: Incident
    postmortem: str  # postmortem_status(): written / due / overdue / not required / not resolved yet
    file: PostmortemFile | None

    def as_dict(self, now: datetime) -> dict[str, Any]:
        row = fig.incident_row(self.incident, now)
        return {
            "id": self.incident.id,
            "severity": self.incident.severity.value,
            "title": self.incident.title,
            "status": self.incident.status,
            "opened_at": fig.when(self.incident.opened_at),
            "acknowledged_after": row[4],
            "response_target": row[5],
            "response": row[6],
            "resolved_after": fig.duration(self.incident.resolve_measure(now).seconds)
            if self.incident.resolved_at
            else None,
            "cause": self.incident.cause,
            "postmortem": self.postmortem,
            "action_items": [] if self.file is None else [i.as_dict() for i in self.file.items],
            "postmortem_problem": None if self.file is None else self.file.problem or None,
        }


@dataclass(frozen=True)
class Review:
    """A review of one period: its figures, those of the period before, its incidents (and trends, quarterly)."""

    kind: str
    period: Period
    service: str
    now: datetime
    report: Report
    before: Report
    incidents: tuple[IncidentReview, ...]
    trends: tuple[Trend, ...] = ()

    @property
    def end(self) -> datetime:
        """Where the review's figures stop: the period's end, or now for a period still running."""
        return min(self.period.end, self.now)

    @property
    def in_progress(self) -> bool:
        return self.now < self.period.end

    @property
    def title(self) -> str:
        return f"{self.kind.capitalize()} operational review: {self.service}, {self.period.label}"

    def to_discuss(self) -> list[str]:
        """What needs a decision: open change failures, missed targets, missing post-mortems, waived gates."""
        points = [
            f"{f.run} in {f.env} ({f.image or '-'}) is not recovered yet: {f.why}"
            for f in self.report.total.failures
            if f.recovered_at is None
        ]
        for item in self.incidents:
            incident = item.incident
            missed = incident.breaches(self.now)
            if missed:
                points.append(f"{incident.id} ({incident.severity.value}) missed: {', '.join(missed)}")
            if item.postmortem.startswith(("due", "overdue")):
                points.append(f"{incident.id} needs its post-mortem ({item.postmortem})")
            elif item.file is not None and not item.file.items and not item.file.problem:
                points.append(f"{incident.id}'s post-mortem lists no action items yet")
        waived = len(self.report.total.waivers)
        if waived:
            points.append(f"{waived} gate(s) waived with --waive: are the gates right, or is the process bent?")
        return points

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "kind": self.kind,
            "title": self.title,
            "period": self.period.as_dict(),
            "in_progress": self.in_progress,
            "figures": self.report.as_dict(),
            "previous": {"period": self.period.previous().as_dict(), "figures": self.before.as_dict()},
            "incidents": [i.as_dict(self.now) for i in self.incidents],
            "trends": [t.as_dict() for t in self.trends],
            "to_discuss": self.to_discuss(),
        }


def build_review(ws: Workspace, kind: str, period: Period) -> Review:
    """The review of ``period`` from the workspace's audit log (and post-mortem files, monthly)."""
    from opsctl.incidents.metrics import report_source

    now = ws.clock()
    names = list(ws.config.environments)
    audit = ws.audit.path

    def figures(of: Period) -> Report:
        end = min(of.end, now)
        return report_from_log(
            audit, now=end, since_s=(end - of.start).total_seconds(), environments=names, incidents=report_source(audit)
        )

    report, before = figures(period), figures(period.previous())
    end = min(period.end, now)
    incidents = incidents_in(audit, period.start, end)
    # Incidents are judged as of now: a post-mortem due after the period ended may be overdue today.
    reviews = tuple(_incident_review(ws, i, now, read_files=kind == "monthly") for i in incidents)
    trends: tuple[Trend, ...] = ()
    if kind == "quarterly":
        trends = quarter_trends(ws, period, report, before)
    return Review(kind, period, ws.config.service, now, report, before, reviews, trends)


def _incident_review(ws: Workspace, incident: Incident, now: datetime, *, read_files: bool) -> IncidentReview:
    status = fig.postmortem_status(incident, now)
    file = read_postmortem(ws.config.project_dir, incident.postmortem) if read_files and incident.postmortem else None
    return IncidentReview(incident, status, file)
