"""Lead time for changes: from a commit to that commit running verified in production.

Where git data exists: the project's git checkout, and images tagged with a
release tag or a commit sha (``hvb:1.8.0`` -> tag ``1.8.0``/``v1.8.0``,
``hvb:sha-4f3a9c1``), the same names ``opsctl changes`` resolves. Production
is the protected environments. A deploy whose image names no commit here is
counted as unresolved, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from opsctl.errors import OpsctlError
from opsctl.reports.history import Deploy

if TYPE_CHECKING:
    from git import Repo

MAX_IMAGES = 400  # distinct images resolved at most: each is a `git rev-parse`


@dataclass(frozen=True)
class LeadTime:
    """One production deploy's lead time."""

    run: str
    env: str
    image: str
    commit: str
    seconds: float
    deploy: Deploy


@dataclass(frozen=True)
class LeadTimes:
    """What was found: the lead times, the deploys whose image names no known commit, and why there is nothing."""

    found: tuple[LeadTime, ...] = ()
    unresolved: tuple[str, ...] = ()
    why_none: str = ""
    checked: tuple[str, ...] = field(default_factory=tuple)  # the environments taken as production


def lead_times(project_dir: Path, deploys: Iterable[Deploy], production: Iterable[str]) -> LeadTimes:
    """Lead times of the verified, succeeded deploys to ``production`` environments, oldest first."""
    envs = tuple(production)
    if not envs:
        return LeadTimes(why_none="no protected (production) environment in opsctl.yaml")
    chosen = [d for d in deploys if d.env in envs and d.outcome == "succeeded" and d.verified and d.image]
    if not chosen:
        return LeadTimes(why_none=f"no verified deploy to {', '.join(envs)} in the window", checked=envs)
    try:
        from opsctl.git.repo import open_repo

        repo = open_repo(project_dir)
    except (OpsctlError, ImportError) as exc:
        return LeadTimes(why_none=f"no git data: {exc}", checked=envs)
    commits: dict[str, tuple[str, float] | None] = {}
    found: list[LeadTime] = []
    unresolved: list[str] = []
    for deploy in chosen:
        image = str(deploy.image)
        if image not in commits:
            commits[image] = _commit_time(repo, image) if len(commits) < MAX_IMAGES else None
        known = commits[image]
        if known is None:
            unresolved.append(deploy.run)
            continue
        sha, committed = known
        seconds = deploy.ended.timestamp() - committed
        if seconds >= 0:  # a commit dated after its own deploy is a clock problem, not a lead time
            found.append(LeadTime(deploy.run, deploy.env, image, sha, seconds, deploy))
    why = "" if found else "no production image names a commit of this repository (tag images with a git tag or sha)"
    return LeadTimes(tuple(found), tuple(unresolved), why, envs)


def _commit_time(repo: Repo, image: str) -> tuple[str, float] | None:
    from opsctl.git.changes import try_resolve

    try:
        resolved = try_resolve(repo, image)
        if resolved is None:
            return None
        return resolved.sha, float(repo.commit(resolved.sha).committed_date)
    except Exception:
        return None
