"""An incident's ticket: a GitHub issue opened with severity labels, commented and closed on resolve."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsctl.errors import BadInput
from opsctl.incidents.comms import Deliveries, link, summary_text

if TYPE_CHECKING:
    from opsctl.audit.log import Journal
    from opsctl.incidents.model import Incident
    from opsctl.workspace import Workspace


def open_ticket(ws: Workspace, journal: Journal, incident: Incident, out: Deliveries) -> None:
    from opsctl.git import issues

    settings = ws.config.notify.github_issue
    try:
        api, repo = issues.issues_api(ws.config, ws.redactor)
    except BadInput as exc:
        out.record("github", "ticket", f"GitHub issue not opened: {exc}", "-", ok=False)
        return
    severity_label = (settings.severity_labels if settings else {}).get(incident.severity.value)
    labels = [*(settings.labels if settings else []), *([severity_label] if severity_label else [])]
    title = f"{incident.id} [{incident.severity.value}] {incident.title}"
    body = summary_text(ws, incident)

    def work() -> str:
        issue = issues.open_issue(api, repo, title, body, labels)
        link(journal, incident, "ticket", f"ticket: {issue.url}", number=issue.number, url=issue.url, repo=repo)
        return f"GitHub issue #{issue.number} opened: {issue.url}"

    with api:
        out.attempt("github", "ticket", api.host, work)


def close_ticket(ws: Workspace, incident: Incident, out: Deliveries) -> None:
    from opsctl.git import issues

    ticket = incident.links.get("ticket")
    settings = ws.config.notify.github_issue
    if not ticket or settings is None:
        return
    try:
        api, repo = issues.issues_api(ws.config, ws.redactor)
    except BadInput as exc:
        out.record("github", "ticket", f"GitHub issue not updated: {exc}", "-", ok=False)
        return
    number = int(ticket["number"])
    note = f"Resolved by {incident.resolved_by}: {incident.cause}"
    if incident.postmortem_date:
        note += f"\n\nPost-mortem due by {incident.postmortem_date.isoformat()}."

    def work() -> str:
        issues.comment(api, str(ticket.get("repo") or repo), number, note)
        if settings.close_on_resolve:
            issues.close(api, str(ticket.get("repo") or repo), number)
        return f"GitHub issue #{number} {'closed' if settings.close_on_resolve else 'commented'}"

    with api:
        out.attempt("github", "ticket", api.host, work)
