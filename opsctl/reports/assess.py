"""Gather every criterion's evidence for ``opsctl maturity``: runs, configuration, incidents, reviews, docs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from opsctl.reports import evidence_process as process
from opsctl.reports import evidence_runs as runs
from opsctl.reports.maturity import Assessment

if TYPE_CHECKING:
    from opsctl.workspace import Workspace


def assess(ws: Workspace, *, since_s: float, since_text: str, doc_pages: Mapping[str, str] | None) -> Assessment:
    """Score the project of ``ws`` over the last ``since_s`` seconds.

    ``doc_pages`` are the pages ``opsctl docs`` would write now (the CLI
    renders them from its own commands); None leaves docs unchecked.
    """
    now = ws.clock()
    start = now - timedelta(seconds=since_s)
    config = ws.config
    facts = runs.run_facts(ws.audit.path, start)
    production = [name for name, env in config.environments.items() if env.protected]
    slo, measured = process.slo_measured(ws, now)
    criteria = (
        runs.recorded(facts, since_text),
        process.health_checks(ws),
        runs.automated(facts, production, list(config.environments), since_text),
        process.runbooks_and_docs(ws, doc_pages),
        slo,
        process.incident_process(ws, start, now, since_text),
        process.reviews(ws, now),
        runs.automatic_rollback(config.project_dir, facts, since_text),
        runs.self_healing(facts, since_text),
        process.predictive(ws, measured),
        process.automated_response(ws),
        process.improvement(ws, now),
        process.tracing(),
    )
    return Assessment(config.service, now, since_s / 86400, criteria)
