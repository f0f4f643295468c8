"""The post-mortem: a Markdown draft pre-filled from the audit log, written to a file and recorded.

The template is ``postmortem.md.j2`` in this package; a project replaces it
with ``<project>/templates/postmortem.md.j2``. It runs in Jinja2's immutable
sandbox with StrictUndefined: a project template can read the values below
and the filters ``when``, ``clock``, ``duration`` and ``cell``, nothing else.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.audit.line import format_ts, parse_ts
from opsctl.errors import BadInput
from opsctl.incidents import store
from opsctl.incidents.model import parse_incident_id
from opsctl.incidents.timeline import IncidentReport, incident_report
from opsctl.values.durations import format_duration

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from opsctl.workspace import Workspace

TEMPLATE = "postmortem.md.j2"
PROJECT_TEMPLATES = "templates"  # <project>/templates/postmortem.md.j2 overrides the built-in
DEFAULT_DIR = "postmortems"


@dataclass(frozen=True)
class Written:
    """A post-mortem file written for an incident, and the audit event's run."""

    incident: str
    path: Path
    shown: str  # the path as recorded: relative to the project when inside it
    sha256: str
    template: str
    run: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident": self.incident,
            "path": self.shown,
            "sha256": self.sha256,
            "template": self.template,
            "run": self.run,
        }


def when(value: datetime | None) -> str:
    return format_ts(value)[:19].replace("T", " ") + " UTC" if value else "-"


def clock(value: datetime) -> str:
    return format_ts(value)[:19].replace("T", " ")


def cell(value: Any) -> str:
    """Text made safe for one Markdown table cell."""
    return " ".join(str("" if value is None else value).split()).replace("|", "\\|")


@lru_cache(maxsize=8)
def _environment(project_dir: Path) -> ImmutableSandboxedEnvironment:
    from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    loader = ChoiceLoader(
        [FileSystemLoader(project_dir / PROJECT_TEMPLATES), PackageLoader("opsctl.incidents", "templates")]
    )
    environment = ImmutableSandboxedEnvironment(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(when=when, clock=clock, duration=format_duration, cell=cell)
    return environment


def template_source(project_dir: Path) -> str:
    """Which template is used: the project's file, or "built-in"."""
    local = project_dir / PROJECT_TEMPLATES / TEMPLATE
    return f"{PROJECT_TEMPLATES}/{TEMPLATE}" if local.is_file() else "built-in"


def context(report: IncidentReport, service: str, actor: str) -> dict[str, Any]:
    """The values a post-mortem template sees."""
    incident, now = report.incident, report.now
    policy = incident.policy
    measures = [incident.acknowledge_measure(now), incident.resolve_measure(now)]
    return {
        "service": service,
        "generated_at": now,
        "generated_by": actor,
        "incident": {
            "id": incident.id,
            "severity": incident.severity.value,
            "severity_name": policy.name,
            "title": incident.title,
            "env": incident.env,
            "envs": incident.envs,
            "status": incident.status,
            "opened_at": incident.opened_at,
            "opened_by": incident.opened_by,
            "respond_by": incident.respond_by,
            "respond_within": policy.respond_text,
            "acknowledged_at": incident.acknowledged_at,
            "acknowledged_by": incident.acknowledged_by,
            "resolved_at": incident.resolved_at,
            "resolved_by": incident.resolved_by,
            "cause": incident.cause,
            "postmortem_required": policy.postmortem_required,
        },
        "measures": [
            {"name": m.name, "seconds": m.seconds, "target_seconds": m.target_s, "done": m.done, "breached": m.breached}
            for m in measures
        ],
        "timeline": [e.as_dict() | {"at": e.at} for e in report.timeline],
        "notes": [{"at": n.at, "actor": n.actor, "text": n.text} for n in incident.notes],
        "changes": [
            c.as_dict()
            | {"started": parse_ts(c.run.started), "finished": parse_ts(c.run.finished) if c.run.finished else None}
            for c in report.changes
        ],
    }


def render(report: IncidentReport, project_dir: Path, service: str, actor: str) -> str:
    """The post-mortem Markdown; BadInput naming the template when it cannot be rendered."""
    from jinja2 import TemplateError, TemplateSyntaxError

    try:
        template = _environment(project_dir).get_template(TEMPLATE)
        return template.render(**context(report, service, actor))
    except TemplateError as exc:
        source = template_source(project_dir)
        where = f"the built-in {TEMPLATE}" if source == "built-in" else source
        if isinstance(exc, TemplateSyntaxError) and exc.lineno:
            where += f":{exc.lineno}"
        message = " ".join(str(exc).split())
        raise BadInput(f"{where} cannot be rendered: {type(exc).__name__}: {message}") from None


def default_path(project_dir: Path, incident_id: str) -> Path:
    return project_dir / DEFAULT_DIR / f"{incident_id}.md"


def write_postmortem(ws: Workspace, incident_text: str, out: Path | None = None, *, force: bool = False) -> Written:
    """Render the post-mortem of an incident to ``out`` (default ``postmortems/INC-<n>.md``) and record it.

    An existing file is someone's edited draft: it is replaced only with ``force``.
    """
    incident_id = parse_incident_id(incident_text)
    project_dir = ws.config.project_dir
    report = incident_report(ws.audit.path, incident_id, ws.clock())
    path = (out if out is not None else default_path(project_dir, incident_id)).resolve()
    shown = _shown(path, project_dir)
    if path.exists() and not force:
        raise BadInput(f"{shown} already exists: edit it, or pass --force to write it again")
    text = render(report, project_dir, ws.config.service, ws.actor)
    _write(path, text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    journal = ws.journal(ws.new_run_id(), store.RUNBOOK, report.incident.env, incident=incident_id)
    template = template_source(project_dir)
    journal.event(
        store.STEP,
        "postmortem",
        path=shown,
        sha256=digest,
        template=template,
        summary=f"{incident_id} post-mortem written to {shown}",
    )
    ws.run_finished(journal.run)
    return Written(incident_id, path, shown, digest, template, journal.run)


def _shown(path: Path, project_dir: Path) -> str:
    try:
        return path.relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
