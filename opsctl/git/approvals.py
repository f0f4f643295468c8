"""Was a change reviewed? The approvals on the pull request that merged a commit.

The ``github.approved`` gate and the ``requires.approvals`` policy both ask
this; the answer is one :class:`ApprovalVerdict`. An approval counts once
per reviewer (their latest decisive review) and never from the pull
request's author or the person deploying.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput

if TYPE_CHECKING:
    from opsctl.config import Config
    from opsctl.git.changes import Resolved
    from opsctl.git.github import GitHub, PullRequest, Review
    from opsctl.values.redact import Redactor

DECISIVE_REVIEWS = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})  # a comment changes no verdict


@dataclass(frozen=True)
class ApprovalVerdict:
    """Enough approvals or not, in one sentence; ``detail`` is what the gate journals."""

    ok: bool
    summary: str
    approvers: tuple[str, ...] = ()  # the approvals that count
    detail: dict[str, Any] = field(default_factory=dict)


def latest_verdicts(reviews: list[Review]) -> dict[str, Review]:
    """Each reviewer's latest decisive review (approve, request changes, dismissed), by lower-case login."""
    latest: dict[str, Review] = {}
    for review in reviews:  # GitHub lists reviews oldest first
        if review.state in DECISIVE_REVIEWS and review.user:
            latest[review.user.lower()] = review
    return latest


def choose_pull(pulls: list[PullRequest], sha: str) -> PullRequest | None:
    """The pull request that merged ``sha`` (else any merged one, else any one) among those GitHub lists."""
    merged = [p for p in pulls if p.merged_at]
    exact = [p for p in merged if p.merge_commit_sha == sha]
    ranked = exact or merged or pulls
    return ranked[0] if ranked else None


def review_approvals(github: GitHub, commit: Resolved, *, needed: int, deployer: str) -> ApprovalVerdict:
    """Whether the pull request of ``commit`` has ``needed`` approvals; raises GitHubError when GitHub cannot say."""
    pull = choose_pull(github.pulls_for_commit(commit.sha), commit.sha)
    if pull is None:
        return ApprovalVerdict(
            ok=False,
            summary=f"no pull request found for {commit.short} ({commit.how}): changes must be merged through a "
            f"reviewed pull request",
            detail={"sha": commit.sha},
        )
    verdicts = latest_verdicts(github.reviews(pull.number))
    not_counted = {pull.author.lower(), deployer.lower()}
    approvers = [r.user for login, r in verdicts.items() if r.state == "APPROVED" and login not in not_counted]
    own = [r.user for login, r in verdicts.items() if r.state == "APPROVED" and login in not_counted]
    blocking = [r.user for r in verdicts.values() if r.state == "CHANGES_REQUESTED"]
    detail: dict[str, Any] = {
        "sha": commit.sha,
        "commit": commit.how,
        "pull": pull.number,
        "url": pull.url,
        "title": pull.title,
        "author": pull.author,
        "approvers": approvers,
        "required": needed,
        "changes_requested": blocking,
    }
    label = f"PR #{pull.number}" + ("" if pull.merged_at else " (not merged)")
    notes = f"; changes requested by {', '.join(blocking)}" if blocking else ""
    if own:
        notes += f"; approval by {', '.join(own)} does not count (author or deployer)"
    if len(approvers) >= needed:
        who = f" by {', '.join(approvers)}" if approvers else ""
        summary = f"{label} approved{who} ({len(approvers)} of {needed} required){notes}"
        return ApprovalVerdict(True, summary, tuple(approvers), detail)
    summary = f"{label} has {len(approvers)} approval(s), {needed} required{notes}"
    return ApprovalVerdict(False, summary, tuple(approvers), detail)


def image_commit(project_dir: Path, image: str | None) -> Resolved:
    """The commit of ``image`` (its tag names a commit or git tag in the project's repository), else HEAD."""
    from opsctl.git.changes import Resolved, try_resolve
    from opsctl.git.repo import open_repo

    try:
        repo = open_repo(project_dir)
    except BadInput:
        raise BadInput(f"{project_dir} is not inside a git repository; give the commit with: sha or ref") from None
    if image:
        found = try_resolve(repo, image)
        if found is not None:
            return Resolved(found.sha, f"image {image}: {found.how}")
        return Resolved(repo.head.commit.hexsha, f"HEAD (the tag of {image} is no commit or tag here)")
    return Resolved(repo.head.commit.hexsha, "HEAD")


def image_approvals(
    config: Config, redactor: Redactor, project_dir: Path, image: str | None, *, needed: int, deployer: str
) -> ApprovalVerdict:
    """The verdict for the commit of the image being deployed (``github:`` in opsctl.yaml names the repository).

    BadInput when GitHub is not configured or the project is no git checkout;
    a GitHub API failure is a failed verdict naming it.
    """
    from opsctl.git.github import GitHub, GitHubError

    with GitHub.from_config(config, redactor) as github:
        commit = image_commit(project_dir, image)
        try:
            return review_approvals(github, commit, needed=needed, deployer=deployer)
        except GitHubError as exc:
            return ApprovalVerdict(False, str(exc))
