"""Severity counts from a scanner's report: Trivy JSON (``trivy image -f json``) or SARIF 2.1 (any scanner).

SARIF severities come from each rule's ``security-severity`` score (the
CVSS-like number GitHub code scanning reads): 9.0+ critical, 7.0+ high,
4.0+ medium, above 0 low; else from a severity word in the rule's tags
(Trivy's SARIF), else from the result's ``level`` (error: high, warning:
medium, note: low).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
_LEVELS = {"error": "HIGH", "warning": "MEDIUM", "note": "LOW"}


class NotAReport(ValueError):
    """The document is neither a Trivy JSON nor a SARIF report."""


def severity_counts(data: Any) -> tuple[str, dict[str, int]]:
    """``(format, {SEVERITY: count})`` of a parsed report; NotAReport when it is neither kind."""
    if isinstance(data, dict) and isinstance(data.get("runs"), list) and "version" in data:
        return "sarif", _sarif(data["runs"])
    if isinstance(data, dict) and ("Results" in data or "SchemaVersion" in data):
        return "trivy", _trivy(data.get("Results") or [])
    raise NotAReport("neither a Trivy JSON report (Results) nor a SARIF log (version, runs)")


def _trivy(results: Any) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for result in results if isinstance(results, list) else []:
        if not isinstance(result, dict):
            continue
        for key in ("Vulnerabilities", "Secrets"):
            for finding in result.get(key) or []:
                if isinstance(finding, dict):
                    counts[_word(finding.get("Severity"))] += 1
    return {s: counts.get(s, 0) for s in SEVERITIES}


def _sarif(runs: list[Any]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for run in runs:
        if not isinstance(run, dict):
            continue
        rules = ((run.get("tool") or {}).get("driver") or {}).get("rules") or []
        by_id = {r.get("id"): r for r in rules if isinstance(r, dict)}
        for result in run.get("results") or []:
            if not isinstance(result, dict):
                continue
            rule: Any = by_id.get(result.get("ruleId"))
            index = result.get("ruleIndex")
            if rule is None and isinstance(index, int) and 0 <= index < len(rules):
                rule = rules[index]
            counts[_sarif_severity(rule if isinstance(rule, dict) else {}, result)] += 1
    return {s: counts.get(s, 0) for s in SEVERITIES}


def _sarif_severity(rule: dict[str, Any], result: dict[str, Any]) -> str:
    properties = rule.get("properties") or {}
    score = properties.get("security-severity")
    try:
        value = float(score) if score is not None else None
    except (TypeError, ValueError):
        value = None
    if value is not None:
        if value >= 9.0:
            return "CRITICAL"
        if value >= 7.0:
            return "HIGH"
        if value >= 4.0:
            return "MEDIUM"
        return "LOW" if value > 0 else "UNKNOWN"
    for tag in properties.get("tags") or []:
        if isinstance(tag, str) and tag.upper() in SEVERITIES:
            return tag.upper()
    level = result.get("level") or (rule.get("defaultConfiguration") or {}).get("level") or "warning"
    return _LEVELS.get(str(level), "UNKNOWN")


def _word(value: Any) -> str:
    word = str(value or "UNKNOWN").upper()
    return word if word in SEVERITIES else "UNKNOWN"
