"""Releases, as the audit log saw them put in place: the history ``releases`` shows and rollback targets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from opsctl.audit.query.runs import DEPLOYING, RunSummary


@dataclass(frozen=True)
class ReleaseRecord:
    """A release as the audit log saw it in one environment."""

    id: str
    image: str
    run: str
    when: str
    actor: str
    verdict: str  # verified | deployed | failed | rolled back | running
    status: str = "running"  # the run's status, in the words `runs` uses (see RUN_STATUSES)
    verified: bool = False


def release_history(runs: list[RunSummary], env: str) -> list[ReleaseRecord]:
    """Releases put in place by deploys, hot-patches and rollbacks, newest first."""
    records = []
    for run in runs:
        if run.env != env or run.runbook not in DEPLOYING:
            continue
        release = run.release_after if run.status == "succeeded" else (run.attempted or run.release_after)
        if not release:
            continue
        records.append(
            ReleaseRecord(
                str(release.get("id")),
                str(release.get("image")),
                run.run,
                run.finished or run.started,
                run.actor,
                _verdict(run),
                run.status,
                run.verified,
            )
        )
    return list(reversed(records))


def _verdict(run: RunSummary) -> str:
    if run.status == "succeeded":
        return "verified" if run.verified else "deployed"
    if run.status in ("rolled_back", "rollback_failed"):
        return "rolled back"
    if run.status == "running":
        return "running"
    return "failed"


def last_verified(runs: list[RunSummary], env: str, *, exclude_ids: Iterable[str] = ()) -> ReleaseRecord | None:
    """The newest verified release in ``env`` that is not excluded and never failed afterwards."""
    excluded = set(exclude_ids)
    history = release_history(runs, env)
    bad_images = {r.image for r in history if r.verdict in ("failed", "rolled back")}
    for record in history:
        if record.verdict != "verified" or record.id in excluded:
            continue
        # A release verified once but later found broken by a deploy of the same image is no target.
        if record.image in bad_images and _failed_after(history, record):
            continue
        return record
    return None


def _failed_after(history: list[ReleaseRecord], record: ReleaseRecord) -> bool:
    return any(
        r.image == record.image and r.verdict in ("failed", "rolled back") and r.when > record.when for r in history
    )
