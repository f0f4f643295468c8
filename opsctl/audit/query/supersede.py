"""Runs overtaken by later ones: which later run changed an environment after a run stopped.

A run that stopped before its verdict (Ctrl-C, kill -9, a lost host) can be
resumed; but once another run has changed the same environment, what the
stopped run's journal expects is no longer what runs there, and resuming it
would verify (and perhaps roll back) someone else's release.
"""

from __future__ import annotations

from opsctl.audit.query.runs import RunSummary


def changed_platform(run: RunSummary) -> bool:
    """Whether ``run`` may have changed its environment's platform.

    A dry run or a checklist changes nothing; a run that reached its rollout
    records the release it attempted; a run that stopped before its verdict
    does not say how far it got, so it may have changed something.
    """
    if run.dry_run or run.runbook.startswith("checklist:"):
        return False
    if run.attempted or (run.release_after and run.release_after != run.release_before):
        return True
    return run.status in ("running", "interrupted")


def superseding_run(runs: list[RunSummary], stopped: RunSummary) -> RunSummary | None:
    """The newest run after ``stopped`` (``runs`` oldest first) that may have changed its environment."""
    ids = [r.run for r in runs]
    later = runs[ids.index(stopped.run) + 1 :] if stopped.run in ids else []
    changed = [r for r in later if r.env == stopped.env and changed_platform(r)]
    return changed[-1] if changed else None


def describe_run(run: RunSummary) -> str:
    """``deploy hvb:1.9.0 by ana@example.com``: what a run did and who ran it, for one-line messages."""
    image = f" {run.image}" if run.image else ""
    return f"{run.runbook}{image} by {run.actor}"
