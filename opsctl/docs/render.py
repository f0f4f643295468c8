"""Render the docs pages with the packaged Jinja2 templates, and write only the pages that changed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.docs.build import actions_context, checklist_context, doc_path, runbook_context
from opsctl.docs.model import DocsResult

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from opsctl.docs.model import CommandDoc

CHECKLISTS_PAGE = "checklists/README.md"


def render_docs(project_dir: Path | None, commands: Mapping[str, CommandDoc] | None = None) -> dict[str, str]:
    """Every page, path relative to the output folder -> Markdown; ``commands`` maps runbook names to their command.

    The runbooks and checklists are the ones opsctl would run for the project
    at ``project_dir``: its own files first, the built-ins for the rest. Each
    file is loaded and validated as a run would, so a broken file is an error
    naming its line, not a page documenting something that cannot run.
    """
    from opsctl.engine.loader import load_checklist, load_runbook, sources

    runbooks = [load_runbook(s.name, project_dir) for s in sources("runbooks", project_dir)]
    checklists = {s.name: load_checklist(s.name, project_dir) for s in sources("checklists", project_dir)}
    used_by: dict[str, list[str]] = {}
    for runbook in runbooks:
        for step in runbook.model.steps:
            if step.checklist:
                used_by.setdefault(step.checklist, []).append(
                    f"[{runbook.name}]({_from_checklists(runbook.name)}) step `{step.id}`"
                )
    templates = _templates()
    pages: dict[str, str] = {}
    for runbook in runbooks:
        context = runbook_context(runbook, checklists, (commands or {}).get(runbook.name))
        template = templates.select_template([f"runbook-{runbook.name}.md.j2", "runbook.md.j2"])
        pages[context["path"]] = _tidy(template.render(runbook=context))
    pages[CHECKLISTS_PAGE] = _tidy(
        templates.get_template("checklists.md.j2").render(
            checklists=[checklist_context(c, tuple(used_by.get(name, ()))) for name, c in checklists.items()],
            actions=actions_context(list(checklists.values()), runbooks),
            runbooks=[{"name": r.name, "doc": _from_checklists(r.name), "title": r.model.title} for r in runbooks],
        )
    )
    return pages


def sync_docs(pages: Mapping[str, str], out_dir: Path, *, check: bool = False) -> DocsResult:
    """Write the pages that differ from what ``out_dir`` holds (``check``: write nothing, list them)."""
    changed: list[str] = []
    unchanged: list[str] = []
    for relative, text in sorted(pages.items()):
        path = out_dir / relative
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            unchanged.append(relative)
            continue
        changed.append(relative)
        if not check:
            _write(path, text)
    return DocsResult(tuple(changed), tuple(unchanged), check)


def _write(path: Path, text: str) -> None:
    # Replace in one step: a reader (or a crash) never sees half a page.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _from_checklists(runbook: str) -> str:
    return f"../{doc_path(runbook)}"


def _tidy(text: str) -> str:
    """At most one blank line in a row and one newline at the end: templates stay readable, pages stay tidy."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip("\n") + "\n"


@lru_cache(maxsize=1)
def _templates() -> ImmutableSandboxedEnvironment:
    from jinja2 import PackageLoader, StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    environment = ImmutableSandboxedEnvironment(
        loader=PackageLoader("opsctl.docs", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["cell"] = cell
    environment.filters["code"] = code
    return environment


def cell(value: Any) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


def code(value: Any) -> str:
    """Inline code, fenced with enough backticks for what it contains."""
    text = str(value)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
