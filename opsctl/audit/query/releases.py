"""Releases, as the audit log saw them put in place: the history ``releases`` shows and rollback targets."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from opsctl.audit.query.summary import DEPLOYING, RunSummary

# Verdicts that make a release no rollback target unless a person insists (``--force-target``).
BAD_VERDICTS = frozenset({"failed", "rolled back"})


@dataclass(frozen=True)
class ReleaseRecord:
    """A release as the audit log saw it in one environment."""

    id: str
    image: str
    run: str
    when: str
    actor: str
    verdict: str  # verified | deployed | failed | rolled back | interrupted | running
    status: str = "running"  # the run's status, in the words `runs` uses (see RUN_STATUSES)
    verified: bool = False

    @property
    def bad(self) -> bool:
        """The release failed verification (or its rollout failed) or was rolled back."""
        return self.verdict in BAD_VERDICTS

    def names(self, release_id: str, image: str) -> bool:
        """Whether this record is about the release ``release_id`` or its image."""
        return self.id == release_id or self.image == image


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
    if run.status in ("running", "interrupted"):
        # Stopped before its verdict (Ctrl-C, kill -9): the release was never judged, so it is no failure.
        return run.status
    return "failed"


def verified_releases(runs: list[RunSummary], env: str, *, exclude_ids: Iterable[str] = ()) -> Iterator[ReleaseRecord]:
    """Verified releases in ``env``, newest first, not excluded and never found broken afterwards."""
    excluded = set(exclude_ids)
    history = release_history(runs, env)
    bad_images = {r.image for r in history if r.bad}
    for record in history:
        if record.verdict != "verified" or record.id in excluded:
            continue
        # A release verified once but later found broken by a deploy of the same image is no target.
        if record.image in bad_images and _failed_after(history, record):
            continue
        yield record


def last_verified(runs: list[RunSummary], env: str, *, exclude_ids: Iterable[str] = ()) -> ReleaseRecord | None:
    """The newest verified release in ``env`` that is not excluded and never failed afterwards."""
    return next(verified_releases(runs, env, exclude_ids=exclude_ids), None)


def last_judged(runs: list[RunSummary], env: str, release_id: str, image: str) -> ReleaseRecord | None:
    """The newest record of a verdict on this release (by id or image) in ``env``; None: never judged.

    Runs that stopped before their verdict (running, interrupted) say nothing about the release.
    """
    for record in release_history(runs, env):
        if record.names(release_id, image) and record.verdict not in ("running", "interrupted"):
            return record
    return None


def _failed_after(history: list[ReleaseRecord], record: ReleaseRecord) -> bool:
    return any(r.image == record.image and r.bad and r.when > record.when for r in history)
