"""The security-scan check: the image's findings against ``scan:`` limits.

ECR images: ECR's own scan (``DescribeImageScanFindings``) of the resolved
digest. Any other image: the report file or command named under ``scan:``
(Trivy JSON or SARIF; ``{image}``, ``{tag}`` and ``{digest}`` in either are
replaced). With ``scan:`` absent the check is listed as not checked.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from opsctl.config.verify import ScanLimits
from opsctl.errors import Unavailable
from opsctl.registry.ecr import EcrRegistry, ecr_repository
from opsctl.registry.model import RegistryProblem, Resolved
from opsctl.values.durations import format_duration
from opsctl.values.imageref import ImageRef
from opsctl.verify.image import Reach
from opsctl.verify.result import Check, Verdict
from opsctl.verify.scanreport import SEVERITIES, NotAReport, severity_counts

MAX_REPORT = 64 * 1024 * 1024  # a large image's Trivy JSON runs to a few MiB


def check_scan(
    image: ImageRef, resolved: Resolved | None, limits: ScanLimits | None, reach: Reach, project_dir: Path
) -> Check:
    """One line: the findings per severity and whether they are within the limits."""
    name = str(image)
    if limits is None:
        return Check("scan", name, Verdict.NOT_CHECKED, "no scan: limits in opsctl.yaml")
    repo = ecr_repository(image)
    if limits.report is None and limits.command is None:
        if repo is None:
            return Check(
                "scan",
                name,
                Verdict.FAILED,
                f"{image} is not in ECR: name a Trivy JSON or SARIF report (scan.report) or a command (scan.command)",
            )
        if resolved is None:
            return Check("scan", name, Verdict.NOT_CHECKED, "ECR scan findings need the image's digest (not resolved)")
        return _ecr(image, resolved, limits, reach)
    pinned = str(resolved.pinned) if resolved else str(image)
    values = {"image": pinned, "tag": image.tag or "", "digest": resolved.digest if resolved else ""}
    try:
        source, raw = _report(limits, values, project_dir)
        kind, counts = severity_counts(json.loads(raw))
    except _Unusable as exc:
        return Check("scan", name, Verdict.FAILED, reach.redactor.text(str(exc)))
    except (ValueError, NotAReport) as exc:
        return Check("scan", name, Verdict.FAILED, f"scan report from {_label(limits)} is not usable: {exc}")
    return _judge(image, counts, limits, f"{kind} report {source}")


class _Unusable(Exception):
    """The report could not be had (missing file, failed command)."""


def _label(limits: ScanLimits) -> str:
    return f"scan.report {limits.report}" if limits.report else "scan.command"


def _report(limits: ScanLimits, values: dict[str, str], project_dir: Path) -> tuple[str, bytes]:
    if limits.report is not None:
        path = project_dir / _filled(limits.report, values)
        try:
            if path.stat().st_size > MAX_REPORT:
                raise _Unusable(f"scan report {path} is larger than {MAX_REPORT // (1024 * 1024)} MiB")
            return str(path), path.read_bytes()
        except OSError as exc:
            raise _Unusable(f"scan report {path} cannot be read ({exc.strerror or exc}): run the scan first") from None
    assert limits.command is not None  # noqa: S101 - the model requires report or command here
    argv = [_filled(part, values) for part in limits.command]
    try:
        # An argv from opsctl.yaml, never a shell string.
        done = subprocess.run(argv, capture_output=True, timeout=limits.timeout, check=False, cwd=project_dir)
    except FileNotFoundError:
        raise _Unusable(f"scan command {argv[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise _Unusable(f"scan command {argv[0]} did not finish within {format_duration(limits.timeout)}") from None
    if done.returncode != 0:
        last = (done.stderr.decode(errors="replace").strip().splitlines() or [""])[-1][:200]
        raise _Unusable(f"scan command {argv[0]} exited {done.returncode}" + (f": {last}" if last else ""))
    return f"from {argv[0]}", done.stdout


def _filled(text: str, values: dict[str, str]) -> str:
    """``text`` with ``{image}``, ``{tag}``, ``{digest}`` replaced; other braces stay (argv may hold JSON)."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def _ecr(image: ImageRef, resolved: Resolved, limits: ScanLimits, reach: Reach) -> Check:
    repo = ecr_repository(image)
    assert repo is not None  # noqa: S101 - the caller checked
    registry = EcrRegistry.for_repository(repo, profile=reach.aws.profile, endpoint_url=reach.aws.endpoint_url)
    try:
        findings = registry.scan_findings(image, repo, resolved.digest)
    except RegistryProblem as exc:
        return Check("scan", str(image), Verdict.FAILED, str(exc))
    except Unavailable as exc:
        return Check("scan", str(image), Verdict.UNAVAILABLE, str(exc))
    if findings is None:
        return Check(
            "scan",
            str(image),
            Verdict.FAILED,
            f"ECR has no scan of {image}: turn on scan on push, or run `aws ecr start-image-scan "
            f"--repository-name {repo.name} --image-id imageDigest={resolved.digest}`",
        )
    if findings.status != "COMPLETE":
        why = f": {findings.description}" if findings.description else ""
        summary = f"ECR scan of {image} is {findings.status}{why}; try again when COMPLETE"
        return Check("scan", str(image), Verdict.FAILED, summary)
    counts = {s: findings.counts.get(s, 0) for s in SEVERITIES}
    counts["UNKNOWN"] += sum(v for k, v in findings.counts.items() if k not in SEVERITIES)
    return _judge(image, counts, limits, "ECR scan")


def _judge(image: ImageRef, counts: dict[str, int], limits: ScanLimits, source: str) -> Check:
    found = ", ".join(f"{counts.get(s, 0)} {s.lower()}" for s in SEVERITIES[:4])
    over = [
        f"{counts.get(severity, 0)} {severity.lower()} (at most {limit} allowed by scan.{key})"
        for severity, key, limit in (
            ("CRITICAL", "max_critical", limits.max_critical),
            ("HIGH", "max_high", limits.max_high),
            ("MEDIUM", "max_medium", limits.max_medium),
        )
        if limit is not None and counts.get(severity, 0) > limit
    ]
    detail = {"counts": counts, "source": source}
    if over:
        return Check("scan", str(image), Verdict.FAILED, f"{image} has {'; '.join(over)} ({source})", detail)
    return Check("scan", str(image), Verdict.PASSED, f"{image}: {found}; within the scan: limits ({source})", detail)
