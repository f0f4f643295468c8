"""Severity counts from Trivy JSON and SARIF reports, and the scan check's verdicts against limits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from opsctl.config.verify import ScanLimits
from opsctl.values.imageref import ImageRef
from opsctl.verify.image import Reach
from opsctl.verify.result import Verdict
from opsctl.verify.scan import check_scan
from opsctl.verify.scanreport import NotAReport, severity_counts

TRIVY = {
    "SchemaVersion": 2,
    "ArtifactName": "ghcr.io/acme/hvb:1.8.0",
    "Results": [
        {"Target": "os", "Vulnerabilities": [{"Severity": "HIGH"}, {"Severity": "HIGH"}, {"Severity": "LOW"}]},
        {"Target": "app", "Vulnerabilities": None, "Secrets": [{"Severity": "CRITICAL"}]},
    ],
}
SARIF = {
    "version": "2.1.0",
    "runs": [
        {
            "tool": {
                "driver": {
                    "name": "Trivy",
                    "rules": [
                        {"id": "CVE-1", "properties": {"security-severity": "9.8"}},
                        {"id": "CVE-2", "properties": {"tags": ["vulnerability", "HIGH"]}},
                        {"id": "CVE-3", "properties": {"security-severity": "5.0"}},
                    ],
                }
            },
            "results": [
                {"ruleId": "CVE-1", "level": "error"},
                {"ruleId": "CVE-2", "level": "error"},
                {"ruleIndex": 2},
                {"ruleId": "OTHER", "level": "note"},
            ],
        }
    ],
}
IMAGE = ImageRef.parse("ghcr.io/acme/hvb:1.8.0")


def test_trivy_counts() -> None:
    assert severity_counts(TRIVY) == ("trivy", {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 0, "LOW": 1, "UNKNOWN": 0})


def test_sarif_counts_from_scores_tags_and_levels() -> None:
    assert severity_counts(SARIF) == ("sarif", {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 1, "LOW": 1, "UNKNOWN": 0})


def test_other_documents_are_not_reports() -> None:
    with pytest.raises(NotAReport):
        severity_counts({"hello": "world"})


def test_no_scan_config_is_not_checked(tmp_path: Path) -> None:
    check = check_scan(IMAGE, None, None, Reach(), tmp_path)
    assert (check.verdict, check.summary) == (Verdict.NOT_CHECKED, "no scan: limits in opsctl.yaml")


def test_non_ecr_image_without_a_report_source_fails(tmp_path: Path) -> None:
    check = check_scan(IMAGE, None, ScanLimits(), Reach(), tmp_path)
    assert check.verdict is Verdict.FAILED
    assert check.summary == (
        "ghcr.io/acme/hvb:1.8.0 is not in ECR: name a Trivy JSON or SARIF report (scan.report) or a command "
        "(scan.command)"
    )


def test_report_within_and_over_limits(tmp_path: Path) -> None:
    (tmp_path / "scan.sarif").write_text(json.dumps(SARIF))
    ok = check_scan(IMAGE, None, ScanLimits(max_critical=1, max_high=1, report="scan.sarif"), Reach(), tmp_path)
    assert ok.verdict is Verdict.PASSED
    assert ok.summary == (
        f"ghcr.io/acme/hvb:1.8.0: 1 critical, 1 high, 1 medium, 1 low; within the scan: limits "
        f"(sarif report {tmp_path / 'scan.sarif'})"
    )
    over = check_scan(IMAGE, None, ScanLimits(max_critical=0, max_high=0, report="scan.sarif"), Reach(), tmp_path)
    assert over.verdict is Verdict.FAILED
    assert over.summary == (
        "ghcr.io/acme/hvb:1.8.0 has 1 critical (at most 0 allowed by scan.max_critical); "
        f"1 high (at most 0 allowed by scan.max_high) (sarif report {tmp_path / 'scan.sarif'})"
    )


def test_missing_report_file_says_run_the_scan(tmp_path: Path) -> None:
    check = check_scan(IMAGE, None, ScanLimits(report="reports/{tag}.json"), Reach(), tmp_path)
    assert check.verdict is Verdict.FAILED
    assert check.summary == (
        f"scan report {tmp_path / 'reports/1.8.0.json'} cannot be read (No such file or directory): run the scan first"
    )


def test_command_output_is_the_report(tmp_path: Path) -> None:
    (tmp_path / "out.json").write_text(json.dumps(TRIVY))
    code = "import sys; assert sys.argv[1] == 'ghcr.io/acme/hvb:1.8.0'; print(open('out.json').read(), '{}'[:0])"
    limits = ScanLimits(max_critical=None, max_high=2, command=[sys.executable, "-c", code, "{image}"])
    check = check_scan(IMAGE, None, limits, Reach(), tmp_path)
    assert check.verdict is Verdict.PASSED, check.summary
    assert check.summary == (
        f"ghcr.io/acme/hvb:1.8.0: 1 critical, 2 high, 0 medium, 1 low; within the scan: limits "
        f"(trivy report from {sys.executable})"
    )


def test_failing_command_names_its_exit_code(tmp_path: Path) -> None:
    code = "import sys; sys.stderr.write('trivy: DB download failed\\n'); sys.exit(3)"
    check = check_scan(IMAGE, None, ScanLimits(command=[sys.executable, "-c", code]), Reach(), tmp_path)
    assert check.verdict is Verdict.FAILED
    assert check.summary == f"scan command {sys.executable} exited 3: trivy: DB download failed"
