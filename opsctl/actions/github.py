"""GitHub gates: ``github.checks`` (CI is green) and ``github.approved`` (the change was reviewed).

Both look at one commit: ``with: sha`` or ``ref`` when given, else the
commit of the image being deployed (its tag is a sha or a git tag, resolved
in the local repository), else HEAD.
"""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.errors import BadInput

if TYPE_CHECKING:
    from git import Repo

    from opsctl.git.changes import Resolved
    from opsctl.git.github import CheckRun, CommitStatus, GitHub, PullRequest, Review

GREEN_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})  # what branch protection accepts
DECISIVE_REVIEWS = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})  # a comment changes no verdict


class CommitParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha: str | None = Field(None, description="commit to check (full or short sha)")
    ref: str | None = Field(None, description="branch or tag to check instead of a sha")
    image: str | None = Field(None, description="image whose tag names the commit (default: params.image)")
    path: str | None = Field(None, description="local repository path (default: the project folder)")


class ChecksParams(CommitParams):
    ignore: list[str] = Field(default_factory=list, description="check names (or globs) that do not count")
    required: list[str] = Field(default_factory=list, description="check names that must be reported and green")


class ApprovedParams(CommitParams):
    approvals: int | None = Field(
        None, ge=0, description="approvals needed (default: env requires.approvals, at least 1)"
    )


def _local_repo(ctx: RunContext, params: CommitParams) -> Repo | None:
    from opsctl.git.repo import open_repo

    path = ctx.project_dir if params.path is None else Path(params.path)
    try:
        return open_repo(path if path.is_absolute() else ctx.project_dir / path)
    except BadInput:
        return None


def target_commit(ctx: RunContext, params: CommitParams, github: GitHub) -> Resolved:
    """The commit a gate looks at, and how it was chosen (for the message)."""
    from opsctl.git.changes import Resolved, looks_like_sha, try_resolve

    repo = _local_repo(ctx, params)
    given = params.sha or params.ref
    if given:
        found = try_resolve(repo, given) if repo is not None else None
        if found is not None:
            return found
        if params.sha and len(params.sha) == 40 and looks_like_sha(params.sha):
            return Resolved(params.sha, f"commit {params.sha[:12]}")
        return Resolved(github.commit_sha(given), f"{given} on GitHub")
    image = params.image or ctx.params.get("image")
    if repo is None:
        raise BadInput(f"{ctx.project_dir} is not inside a git repository; give the commit with: sha or ref")
    if image:
        found = try_resolve(repo, str(image))
        if found is not None:
            return Resolved(found.sha, f"image {image}: {found.how}")
        return Resolved(repo.head.commit.hexsha, f"HEAD (the tag of {image} is no commit or tag here)")
    return Resolved(repo.head.commit.hexsha, "HEAD")


def _state_of_run(run: CheckRun) -> str:
    if run.status != "completed":
        return "pending"
    return "green" if run.conclusion in GREEN_CONCLUSIONS else "failing"


def _state_of_status(status: CommitStatus) -> str:
    return {"success": "green", "pending": "pending"}.get(status.state, "failing")


def _entries(runs: list[CheckRun], statuses: list[CommitStatus], ignore: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {
            "name": r.name,
            "kind": "check run",
            "state": _state_of_run(r),
            "result": r.conclusion if r.status == "completed" else r.status,
            "url": r.url,
        }
        for r in runs
    ]
    found += [
        {"name": s.context, "kind": "status", "state": _state_of_status(s), "result": s.state, "url": s.url}
        for s in statuses
    ]
    return [e for e in found if not any(fnmatch(str(e["name"]), pattern) for pattern in ignore)]


def _listed(entries: list[dict[str, Any]]) -> str:
    return ", ".join(f"{e['name']} ({e['result']})" for e in entries[:10]) + (" ..." if len(entries) > 10 else "")


@action("github.checks", ChecksParams)
def github_checks(ctx: RunContext, params: ChecksParams) -> Outcome:
    """All CI check runs and commit statuses of the commit are green (pending is not green)."""
    from opsctl.git.github import GitHub, GitHubError

    with GitHub.from_config(ctx.config, ctx.redactor) as github:
        try:
            commit = target_commit(ctx, params, github)
            entries = _entries(github.check_runs(commit.sha), github.statuses(commit.sha), params.ignore)
        except GitHubError as exc:
            return Outcome.failed(str(exc))
    where = f"{commit.short} ({commit.how})"
    detail: dict[str, Any] = {"sha": commit.sha, "commit": commit.how, "checks": entries[:50]}
    if not entries:
        return Outcome.failed(f"no CI checks reported for {commit.short}", **detail)
    failing = [e for e in entries if e["state"] == "failing"]
    pending = [e for e in entries if e["state"] == "pending"]
    names = {e["name"] for e in entries}
    missing = [name for name in params.required if name not in names]
    problems = [f"failing: {_listed(failing)}"] if failing else []
    problems += [f"pending: {_listed(pending)}"] if pending else []
    problems += [f"not reported: {', '.join(missing)}"] if missing else []
    if problems:
        detail.update(failing=[e["name"] for e in failing], pending=[e["name"] for e in pending], missing=missing)
        return Outcome.failed(f"CI is not green on {where}: {'; '.join(problems)}", **detail)
    return Outcome.passed(f"all {len(entries)} CI checks green on {where}", **detail)


def _choose_pull(pulls: list[PullRequest], sha: str) -> PullRequest | None:
    merged = [p for p in pulls if p.merged_at]
    exact = [p for p in merged if p.merge_commit_sha == sha]
    ranked = exact or merged or pulls
    return ranked[0] if ranked else None


def latest_verdicts(reviews: list[Review]) -> dict[str, Review]:
    """Each reviewer's latest decisive review (approve, request changes, dismissed), by lower-case login."""
    latest: dict[str, Review] = {}
    for review in reviews:  # GitHub lists reviews oldest first
        if review.state in DECISIVE_REVIEWS and review.user:
            latest[review.user.lower()] = review
    return latest


def _required(ctx: RunContext, params: ApprovedParams) -> int:
    if params.approvals is not None:
        return params.approvals
    configured = ctx.env.requires.approvals if ctx.env_name is not None else 0
    return configured or 1


@action("github.approved", ApprovedParams)
def github_approved(ctx: RunContext, params: ApprovedParams) -> Outcome:
    """The pull request that merged the commit has enough approvals (not counting the deployer's own)."""
    from opsctl.git.github import GitHub, GitHubError

    needed = _required(ctx, params)
    if needed == 0:
        return Outcome.passed("no approvals required (approvals: 0)", required=0)
    with GitHub.from_config(ctx.config, ctx.redactor) as github:
        try:
            commit = target_commit(ctx, params, github)
            pull = _choose_pull(github.pulls_for_commit(commit.sha), commit.sha)
            reviews = github.reviews(pull.number) if pull is not None else []
        except GitHubError as exc:
            return Outcome.failed(str(exc))
    if pull is None:
        return Outcome.failed(
            f"no pull request found for {commit.short} ({commit.how}): changes must be merged through a "
            f"reviewed pull request",
            sha=commit.sha,
        )
    verdicts = latest_verdicts(reviews)
    not_counted = {pull.author.lower(), ctx.actor.lower()}
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
        return Outcome.passed(f"{label} approved{who} ({len(approvers)} of {needed} required){notes}", **detail)
    return Outcome.failed(f"{label} has {len(approvers)} approval(s), {needed} required{notes}", **detail)
