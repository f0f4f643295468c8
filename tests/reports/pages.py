"""Build the report page in-process, as `opsctl report --html` does."""

from __future__ import annotations

from pathlib import Path

from opsctl.kpis.figures import report_from_log
from opsctl.reports.report_page import build_page
from opsctl.workspace import Workspace
from tests.reports.history import NOW

WINDOW = 90 * 86400


def report_page(config: Path) -> str:
    ws = Workspace.load(str(config), actor="lead@example.com", clock=lambda: NOW)
    report = report_from_log(ws.audit.path, now=NOW, since_s=WINDOW, environments=list(ws.config.environments))
    return build_page(ws, report, {}, since="90d")
