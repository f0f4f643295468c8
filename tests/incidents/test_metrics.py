"""Incident figures for the report: counts, MTTR (opened → resolved), breaches, missing post-mortems."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from opsctl.incidents.metrics import incident_summary, report_source
from opsctl.workspace import Workspace
from tests.incidents.support import ALICE, BOB, T0, Project, make_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """Four incidents: P3 (a day early), P1 in production, P0 in staging, P2 with no environment."""
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path)
    project.clock.at(-24 * 60)
    project.ok("incident", "open", "-s", "P3", "-t", "old typo", "--env", "production")
    project.clock.at(0)
    project.ok("incident", "open", "-s", "P1", "-t", "calls fail", "--env", "production")
    project.clock.at(5)
    project.ok("incident", "ack", "INC-2", actor=BOB)
    project.clock.at(40)
    project.ok("incident", "resolve", "INC-2", "--cause", "bad deploy", actor=BOB)  # 40m, no post-mortem
    project.clock.at(60)
    project.ok("incident", "open", "-s", "P0", "-t", "no calls at all", "--env", "staging")
    project.clock.at(120)
    project.ok("incident", "resolve", "INC-3", "--cause", "config")  # 60m, never acknowledged: 60m to respond
    project.ok("incident", "postmortem", "INC-3")
    project.clock.at(150)
    project.ok("incident", "open", "-s", "P2", "-t", "slow replies")
    project.clock.at(180)
    return project


def test_summary_over_a_window(project: Project) -> None:
    stats = incident_summary(project.audit_path, None, T0 - timedelta(hours=1), project.clock.now)
    assert stats.count_by_severity == {"P0": 1, "P1": 1, "P2": 1, "P3": 0}
    assert (stats.opened, stats.resolved, stats.open) == (3, 2, 1)
    assert stats.mttr_s == (40 * 60 + 60 * 60) / 2
    assert (stats.missing_postmortems, stats.p0p1_without_postmortem) == (("INC-2",), 1)
    assert (stats.breached, stats.breaches) == (("INC-3",), 1)  # a P0 answered after an hour
    everything = incident_summary(project.audit_path, None, None, project.clock.now)
    assert (everything.opened, everything.breached) == (4, ("INC-1", "INC-3"))  # the old P3 was never answered


def test_environment_filter_counts_incidents_without_an_environment_everywhere(project: Project) -> None:
    since = T0 - timedelta(hours=1)
    production = incident_summary(project.audit_path, "production", since, project.clock.now)
    assert (production.count_by_severity, production.mttr_s) == ({"P0": 0, "P1": 1, "P2": 1, "P3": 0}, 2400.0)
    staging = incident_summary(project.audit_path, "staging", since, project.clock.now)
    assert (staging.count_by_severity["P0"], staging.count_by_severity["P2"], staging.mttr_s) == (1, 1, 3600.0)
    # A hot-patch for INC-4 in staging ties it to staging: production no longer counts it.
    ws = Workspace.load(str(project.config), actor=ALICE, clock=project.clock)
    ws.journal("r-hotpatch", "hot-patch", "staging", incident="INC-4").event("run", "started", params={})
    assert incident_summary(project.audit_path, "production", since, project.clock.now).opened == 1


def test_an_empty_log_has_no_mttr(tmp_path: Path) -> None:
    stats = incident_summary(tmp_path / "audit.jsonl", None, None, T0)
    assert (stats.opened, stats.mttr_s, stats.breached, stats.missing_postmortems) == (0, None, (), ())


def test_report_source_fills_the_report_seam(project: Project) -> None:
    source = report_source(project.audit_path)
    figures = source(T0 - timedelta(hours=1), project.clock.now, None)
    assert figures.as_dict() == {
        "opened": 3,
        "resolved": 2,
        "mttr_s": 3000.0,
        "by_severity": {"P0": 1, "P1": 1, "P2": 1, "P3": 0},
        "p0p1_without_postmortem": 1,
        "missing_postmortems": ["INC-2"],
        "breached": ["INC-3"],
    }
