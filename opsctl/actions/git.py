"""Git gates: ``git.clean``, ``git.branch``, ``git.pushed`` (gitpython)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.git.repo import open_repo


class GitParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str | None = Field(None, description="repository path (default: the project folder)")


class GitBranchParams(GitParams):
    branch: str | list[str] | None = Field(None, description="allowed branch name or names")


class GitPushedParams(GitParams):
    branch: str | None = None
    fetch: bool = Field(False, description="fetch the upstream first (network)")


def _repo_path(ctx: RunContext, params: GitParams) -> Path:
    if params.path is None:
        return ctx.project_dir
    path = Path(params.path)
    return path if path.is_absolute() else ctx.project_dir / path


@action("git.clean", GitParams)
def git_clean(ctx: RunContext, params: GitParams) -> Outcome:
    """The working tree has no uncommitted or untracked changes."""
    repo = open_repo(_repo_path(ctx, params))
    lines = repo.git.status("--porcelain").splitlines()
    if not lines:
        return Outcome.passed("working tree is clean")
    shown = ", ".join(line.strip() for line in lines[:5]) + (" ..." if len(lines) > 5 else "")
    return Outcome.failed(
        f"working tree has {len(lines)} uncommitted change(s): {shown}; commit or stash them", changes=lines[:50]
    )


@action("git.branch", GitBranchParams)
def git_branch(ctx: RunContext, params: GitBranchParams) -> Outcome:
    """HEAD is on an allowed branch (default: env git.branch, or main for protected environments)."""
    allowed = params.branch
    if allowed is None and ctx.env_name is not None:
        allowed = ctx.env.git.branch or ("main" if ctx.env.protected else None)
    repo = open_repo(_repo_path(ctx, params))
    if repo.head.is_detached:
        return Outcome.failed(f"HEAD is detached at {repo.head.commit.hexsha[:7]}; check out a branch")
    branch = repo.active_branch.name
    names = [allowed] if isinstance(allowed, str) else list(allowed or [])
    if not names:
        return Outcome.passed(f"on branch {branch} (any branch allowed)", branch=branch)
    if branch in names:
        return Outcome.passed(f"on branch {branch}", branch=branch)
    return Outcome.failed(f"on branch {branch}, expected {' or '.join(names)}", branch=branch, allowed=names)


@action("git.pushed", GitPushedParams)
def git_pushed(ctx: RunContext, params: GitPushedParams) -> Outcome:
    """HEAD is pushed: the branch has an upstream and no commits that it lacks."""
    import git

    repo = open_repo(_repo_path(ctx, params))
    if repo.head.is_detached and params.branch is None:
        return Outcome.failed("HEAD is detached; check out a branch before deploying")
    branch = repo.heads[params.branch] if params.branch else repo.active_branch
    upstream = branch.tracking_branch()
    if upstream is None:
        return Outcome.failed(f"branch {branch.name} has no upstream; push it with: git push -u origin {branch.name}")
    if params.fetch:
        try:
            repo.remotes[upstream.remote_name].fetch(upstream.remote_head)
        except git.GitCommandError as exc:
            return Outcome.failed(f"cannot fetch {upstream.name}: {exc.stderr.strip() or exc}")
    if not upstream.is_valid():
        return Outcome.failed(f"upstream {upstream.name} does not exist; push with: git push -u origin {branch.name}")
    ahead = sum(1 for _ in repo.iter_commits(f"{upstream.name}..{branch.name}"))
    behind = sum(1 for _ in repo.iter_commits(f"{branch.name}..{upstream.name}"))
    detail = {"branch": branch.name, "upstream": upstream.name, "ahead": ahead, "behind": behind}
    if ahead:
        return Outcome.failed(
            f"{ahead} commit(s) on {branch.name} not pushed to {upstream.name}; run git push", **detail
        )
    note = f" ({behind} behind; pull to deploy the latest)" if behind else ""
    return Outcome.passed(f"{branch.name} is pushed to {upstream.name}{note}", **detail)
