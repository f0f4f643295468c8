"""Runbook and checklist docs generated from the YAML, so they cannot drift (STYLE 12).

``opsctl docs`` renders ``runbooks/deployment.md``, ``rollback.md``,
``hot-patch.md`` (one page per runbook) and ``checklists/README.md`` (every
checklist) from the YAML files with the Jinja2 templates shipped in
``opsctl/docs/templates`` (sandboxed). :func:`render_docs` returns the pages;
:func:`sync_docs` writes only what changed, or in check mode only reports
which files are stale. The CLI describes its own commands (usage, options,
examples) as :class:`CommandDoc` values, so the core never sees typer.
"""

from __future__ import annotations

from opsctl.docs.model import CommandDoc, DocsResult, OptionDoc
from opsctl.docs.render import render_docs, sync_docs

__all__ = ["CommandDoc", "DocsResult", "OptionDoc", "render_docs", "sync_docs"]
