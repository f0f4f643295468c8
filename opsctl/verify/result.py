"""What verification found: one :class:`Check` per line, gathered in a :class:`VerifyReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from opsctl.errors import ExitCode


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNED = "warned"
    UNAVAILABLE = "unavailable"  # the service that would answer could not be reached: exit 5
    NOT_CHECKED = "not_checked"  # turned off (verify: {family: false}) or not applicable here


@dataclass(frozen=True)
class Check:
    """One line of the report: which family, what was checked, the verdict and why."""

    family: str  # image | scan | roles | secrets | logs | app
    name: str  # what exactly: the image, a role ARN, a secret, a log group
    verdict: Verdict
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.verdict.value:<11} {self.family:<7} {self.summary}"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "family": self.family,
            "name": self.name,
            "verdict": self.verdict.value,
            "summary": self.summary,
        }
        if self.detail:
            data["detail"] = self.detail
        return data


@dataclass(frozen=True)
class VerifyReport:
    """Every check of one environment for one image; ``pinned`` is ``name:tag@digest`` when the image resolved."""

    env: str
    image: str
    checks: tuple[Check, ...]
    pinned: str | None = None
    digest: str | None = None

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.verdict is Verdict.FAILED)

    @property
    def unavailable(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.verdict is Verdict.UNAVAILABLE)

    @property
    def not_checked(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.verdict is Verdict.NOT_CHECKED)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unavailable

    @property
    def exit_code(self) -> ExitCode:
        """1 when a check failed (trying again will not help), else 5 when a service was unreachable, else 0."""
        if self.failed:
            return ExitCode.FAILED
        if self.unavailable:
            return ExitCode.UNAVAILABLE
        return ExitCode.OK

    def summary(self) -> str:
        """One line: the verdict, and what stopped it or was left out."""
        if self.failed:
            first = self.failed[0]
            more = f" (and {len(self.failed) - 1} more)" if len(self.failed) > 1 else ""
            return f"verification failed: {first.summary}{more}"
        if self.unavailable:
            return f"verification incomplete: {self.unavailable[0].summary}"
        passed = sum(1 for c in self.checks if c.verdict in (Verdict.PASSED, Verdict.WARNED))
        text = f"verified {self.pinned or self.image} for {self.env}: {passed} checks passed"
        skipped = sorted({c.family for c in self.not_checked})
        return text + (f"; not checked: {', '.join(skipped)}" if skipped else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "image": self.image,
            "digest": self.digest,
            "pinned": self.pinned,
            "ok": self.ok,
            "exit_code": int(self.exit_code),
            "checks": [c.as_dict() for c in self.checks],
            "not_checked": [c.family + ": " + c.summary for c in self.not_checked],
        }
