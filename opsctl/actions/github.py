"""GitHub gates: ``github.checks`` (CI is green) and ``github.approved`` (the change was reviewed).

Both look at one commit: ``with: sha`` or ``ref`` when given, else the
commit of the image being deployed (its tag is a sha or a git tag, resolved
in the local repository), else HEAD. Run inside GitHub Actions, the checks
gate leaves out the check run of the job it runs in (:mod:`opsctl.git.own_job`).
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
from opsctl.values.imageref import ImageRef

if TYPE_CHECKING:
    from git import Repo

    from opsctl.git.changes import Resolved
    from opsctl.git.github import CheckRun, CommitStatus, GitHub

GREEN_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})  # what branch protection accepts


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
    image = ImageRef.parse(params.image) if params.image else ctx.request.image
    if repo is None:
        raise BadInput(f"{ctx.project_dir} is not inside a git repository; give the commit with: sha or ref")
    if image is not None:
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


def _own_check_runs(ctx: RunContext, runs: list[CheckRun]) -> tuple[list[CheckRun], list[str]]:
    """``runs`` without the check run of the GitHub Actions job this run is part of, and its name(s)."""
    import os

    from opsctl.git.own_job import OwnJob

    own = OwnJob.from_env(os.environ, ctx.project_dir)
    if own is None:
        return runs, []
    mine = [r for r in runs if own.owns(r.name, r.details_url)]
    return [r for r in runs if r not in mine], [r.name for r in mine]


@action("github.checks", ChecksParams)
def github_checks(ctx: RunContext, params: ChecksParams) -> Outcome:
    """All CI check runs and commit statuses of the commit are green (pending is not green)."""
    from opsctl.git.github import GitHub, GitHubError

    with GitHub.from_config(ctx.config, ctx.redactor) as github:
        try:
            commit = target_commit(ctx, params, github)
            runs, own = _own_check_runs(ctx, github.check_runs(commit.sha))
            entries = _entries(runs, github.statuses(commit.sha), params.ignore)
        except GitHubError as exc:
            return Outcome.failed(str(exc))
    # Its own job is always in progress while it runs: counted, the gate could never pass from CI.
    left_out = f" (not counting {', '.join(own)}: the job this run is part of)" if own else ""
    where = f"{commit.short} ({commit.how})"
    detail: dict[str, Any] = {"sha": commit.sha, "commit": commit.how, "checks": entries[:50]}
    if own:
        detail["own_check_runs"] = own
    if not entries:
        return Outcome.failed(f"no CI checks reported for {commit.short}{left_out}", **detail)
    failing = [e for e in entries if e["state"] == "failing"]
    pending = [e for e in entries if e["state"] == "pending"]
    names = {e["name"] for e in entries}
    missing = [name for name in params.required if name not in names]
    problems = [f"failing: {_listed(failing)}"] if failing else []
    problems += [f"pending: {_listed(pending)}"] if pending else []
    problems += [f"not reported: {', '.join(missing)}"] if missing else []
    if problems:
        detail.update(failing=[e["name"] for e in failing], pending=[e["name"] for e in pending], missing=missing)
        return Outcome.failed(f"CI is not green on {where}: {'; '.join(problems)}{left_out}", **detail)
    return Outcome.passed(f"all {len(entries)} CI checks green on {where}{left_out}", **detail)


def _required(ctx: RunContext, params: ApprovedParams) -> int:
    if params.approvals is not None:
        return params.approvals
    configured = ctx.env.requires.approvals if ctx.env_name is not None else 0
    return configured or 1


@action("github.approved", ApprovedParams)
def github_approved(ctx: RunContext, params: ApprovedParams) -> Outcome:
    """The pull request that merged the commit has enough approvals (not counting the deployer's own)."""
    from opsctl.git.approvals import review_approvals
    from opsctl.git.github import GitHub, GitHubError

    needed = _required(ctx, params)
    if needed == 0:
        return Outcome.passed("no approvals required (approvals: 0)", required=0)
    with GitHub.from_config(ctx.config, ctx.redactor) as github:
        try:
            commit = target_commit(ctx, params, github)
            verdict = review_approvals(github, commit, needed=needed, deployer=ctx.actor)
        except GitHubError as exc:
            return Outcome.failed(str(exc))
    return (Outcome.passed if verdict.ok else Outcome.failed)(verdict.summary, **verdict.detail)
