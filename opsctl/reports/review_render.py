"""A review as Markdown (to paste, commit or post) and as an offline HTML page: the same tables in both.

Every string from the audit log or a post-mortem file is hostile: in
Markdown it is put on one line with its control characters backslash-escaped
(no link, image, HTML or table cell can be smuggled in); in HTML it is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from opsctl.reports import figures as fig
from opsctl.reports.page import Section, page, paragraph, table
from opsctl.reports.review import Review
from opsctl.reports.svg import esc

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")  # what can start a link, image, HTML, emphasis or a cell


def md(value: object) -> str:
    """Text safe inside a Markdown paragraph or table cell: one line, control characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str("-" if value is None else value).split()))


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(md(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]


Part = Para | Heading | Bullets | Table


def _blocks(review: Review) -> list[tuple[str, list[Part]]]:
    """The review as titled sections of parts, drawn the same way in Markdown and HTML."""
    report = review.report
    sections: list[tuple[str, list[Part]]] = []
    if review.kind == "quarterly":
        rows: list[list[object]] = [[t.name, t.show(t.before), t.show(t.now), t.verdict] for t in review.trends]
        sections.append(
            ("Process figures against the previous quarter", [Table(["figure", "previous", "this", "trend"], rows)])
        )
    kpi_rows: list[list[object]] = []
    environments = [*report.environments, report.total] if len(report.environments) > 1 else [*report.environments]
    previous = {e.env: e for e in [*review.before.environments, review.before.total]}
    for env in environments:
        old = previous.get(env.env)
        kpi_rows.append(
            [
                *fig.kpi_row(env)[:7],
                "-" if old is None else f"{old.deploys} deploys, CFR {fig.percent(old.change_failure_rate)}",
            ]
        )
    headers = ["env", "deploys", "per day", "success", "CFR", "MTTR", "MTBF", "previous period"]
    sections.append(("Deployment figures", [Table(headers, kpi_rows)]))
    if report.total.failures:
        failure_headers = ["failed at", "env", "run", "image", "why", "recovered by", "time to recover"]
        rows = [fig.failure_row(f) for f in report.total.failures]
        sections.append(("Change failures", [Table(failure_headers, rows)]))
    sections.append(("Incidents", _incident_parts(review)))
    if report.total.waivers:
        rows = [
            [f"{w.at:%Y-%m-%d %H:%M}", w.env, w.run, w.item, w.actor, ", ".join(w.approved_by), w.reason]
            for w in report.total.waivers
        ]
        headers = ["at", "env", "run", "gate", "waived by", "approved by", "reason"]
        sections.append(("Gates waived", [Table(headers, rows)]))
    points = review.to_discuss()
    sections.append(("To discuss", [Bullets(points)] if points else [Para("Nothing needs a decision.")]))
    return sections


def _incident_parts(review: Review) -> list[Part]:
    if not review.incidents:
        return [Para("No incident was opened in this period.")]
    end = review.now  # incidents are judged as of now (see Review.to_discuss)
    headers = ["incident", "severity", "title", "opened", "acknowledged after", "target", "response", "post-mortem"]
    parts: list[Part] = [Table(headers, [fig.incident_row(i.incident, end) for i in review.incidents])]
    if review.kind != "monthly":
        return parts
    for item in review.incidents:
        incident = item.incident
        parts.append(Heading(f"{incident.id} ({incident.severity.value}): {incident.title}"))
        resolved = fig.duration(incident.resolve_measure(end).seconds) if incident.resolved_at else "not resolved yet"
        parts.append(Para(f"Status: {incident.status}; resolved after: {resolved}; cause: {incident.cause or '-'}."))
        parts.append(Para(f"Post-mortem: {item.postmortem}."))
        if item.file is not None and item.file.problem:
            parts.append(Para(f"The post-mortem file {item.file.path} {item.file.problem}."))
        elif item.file is not None and item.file.items:
            rows = [[a.action, a.owner or "-", a.due or "-", a.ticket or "-"] for a in item.file.items]
            parts.append(Table(["action item", "owner", "due", "ticket"], rows))
        elif item.file is not None:
            parts.append(Para("Action items: none written yet."))
    return parts


def _meta(review: Review) -> str:
    state = " (in progress: figures up to now)" if review.in_progress else ""
    span = f"{fig.when(review.period.start)} to {fig.when(review.period.end)}"
    return f"{span}{state} · generated by opsctl from the audit log"


def to_markdown(review: Review) -> str:
    """The review as a Markdown document."""
    out = [f"# {md(review.title)}", "", md(_meta(review)), ""]
    for title, parts in _blocks(review):
        out += [f"## {md(title)}", ""]
        for part in parts:
            if isinstance(part, Table):
                out += [md_table(part.headers, part.rows), ""]
            elif isinstance(part, Bullets):
                out += [*(f"- {md(p)}" for p in part.items), ""]
            elif isinstance(part, Heading):
                out += [f"### {md(part.text)}", ""]
            else:
                out += [md(part.text), ""]
    return "\n".join(out).rstrip() + "\n"


def to_html(review: Review) -> str:
    """The review as one offline HTML page."""
    sections = []
    for title, parts in _blocks(review):
        body = []
        for part in parts:
            if isinstance(part, Table):
                body.append(table(part.headers, part.rows, text_cols=len(part.headers)))
            elif isinstance(part, Bullets):
                body.append("<ul>" + "".join(f"<li>{esc(p)}</li>" for p in part.items) + "</ul>")
            elif isinstance(part, Heading):
                body.append(f"<h3>{esc(part.text)}</h3>")
            else:
                body.append(paragraph(part.text))
        sections.append(Section(title, "".join(body)))
    return page(review.title, _meta(review), sections)
