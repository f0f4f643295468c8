"""Change failures and their recovery: why a deploy counts as failed, when it failed, when service came back."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime

from opsctl.audit.query import RunSummary
from opsctl.kpis.model import ChangeFailure

FAILED = {
    "rolled_back": "rolled back automatically",
    "rollback_failed": "its automatic rollback failed",
    "failed": "failed after its rollout (no rollback)",
    "needs_human": "left the service in a state that needed a human",
}


@dataclass(frozen=True)
class Recoveries:
    """The verified ends in one environment, in time order: where a failure looks for its recovery."""

    times: list[datetime]
    runs: list[str]

    def first_after(self, moment: datetime) -> tuple[datetime, str] | None:
        at = bisect_right(self.times, moment)
        return (self.times[at], self.runs[at]) if at < len(self.times) else None


def change_failure(
    run: RunSummary,
    finished: datetime,
    remedy: RunSummary | None,
    rollback_start: datetime | None,
    recoveries: Recoveries,
) -> ChangeFailure | None:
    """``run`` (a counted deploy) as a change failure with its recovery, or None when it did not fail."""
    if run.status in FAILED:
        why = FAILED[run.status]
    elif remedy is not None:
        why = f"followed by {remedy.runbook} {remedy.run}"
    else:
        return None
    failed_at = rollback_start or finished if run.status != "succeeded" else finished
    recovered = (finished, run.run) if run.status == "rolled_back" else recoveries.first_after(failed_at)
    return ChangeFailure(
        run.run,
        run.env,
        run.runbook,
        run.image,
        why,
        failed_at,
        recovered[0] if recovered else None,
        recovered[1] if recovered else None,
    )
