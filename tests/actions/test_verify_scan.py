"""The pre-deploy item "Security scan completed" is machine-checked once `scan:` limits are configured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.clirunner import opsctl

CONFIG = """\
service: hvb
environments:
  staging:
    platform: {kind: ecs, region: eu-west-1, cluster: c, service: s, container: bot}
    verify: {image: false}
"""
SCAN = "scan: {max_critical: 0, max_high: 1, report: 'reports/{tag}.json'}\n"
CHECKLIST = """\
title: Scan only
items:
  - id: security-scan-checked
    title: Security scan completed
    uses: verify.scan
    with: {image: "ghcr.io/acme/hvb:1.8.0"}
"""


def trivy(*severities: str) -> str:
    return json.dumps({"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"Severity": s} for s in severities]}]})


def finished(out: str) -> dict[str, Any]:
    """The run's last JSON event (`--json` streams one event per line, the result last)."""
    last = json.loads(out.splitlines()[-1])
    assert last["event"] == "run.finished"
    return last


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "checklists").mkdir()
    (tmp_path / "checklists" / "scan-only.yaml").write_text(CHECKLIST)
    (tmp_path / "reports").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_findings_within_the_limits_pass(project: Path) -> None:
    (project / "opsctl.yaml").write_text(CONFIG + SCAN)
    (project / "reports" / "1.8.0.json").write_text(trivy("HIGH", "LOW"))
    result = opsctl("--json", "checklist", "run", "scan-only", "--env", "staging")
    assert result.code == 0, result.err
    (item,) = finished(result.out)["items"]
    assert item["status"] == "passed"
    assert "0 critical" in item["summary"]
    assert "1 high" in item["summary"]


def test_findings_over_the_limits_fail_naming_the_limit(project: Path) -> None:
    (project / "opsctl.yaml").write_text(CONFIG + SCAN)
    (project / "reports" / "1.8.0.json").write_text(trivy("CRITICAL", "HIGH", "HIGH"))
    result = opsctl("--json", "checklist", "run", "scan-only", "--env", "staging")
    assert result.code == 1
    (item,) = finished(result.out)["items"]
    assert item["status"] == "failed"
    assert "at most 0 allowed by scan.max_critical" in item["summary"]


def test_a_missing_report_fails_and_says_run_the_scan(project: Path) -> None:
    (project / "opsctl.yaml").write_text(CONFIG + SCAN)
    result = opsctl("--json", "checklist", "run", "scan-only", "--env", "staging")
    assert result.code == 1
    (item,) = finished(result.out)["items"]
    assert item["status"] == "failed"
    assert "cannot be read" in item["summary"]
    assert "run the scan first" in item["summary"]


def test_without_scan_limits_the_item_is_skipped_and_says_why(project: Path) -> None:
    (project / "opsctl.yaml").write_text(CONFIG)
    result = opsctl("--json", "checklist", "run", "scan-only", "--env", "staging")
    (item,) = finished(result.out)["items"]
    assert item["status"] == "skipped"
    assert item["summary"] == "no scan: limits in opsctl.yaml; confirm the scan by hand (item security-scan)"


def test_the_shipped_pre_deploy_checklist_picks_the_machine_check_when_scan_is_configured() -> None:
    text = (Path(__file__).resolve().parents[2] / "checklists" / "pre-deploy.yaml").read_text()
    assert "  - id: security-scan-checked\n    title: Security scan completed\n    uses: verify.scan\n" in text
    assert '    uses: verify.scan\n    when: "scan is not none"\n' in text
    assert '    uses: manual\n    when: "scan is none"\n' in text
