"""What a change contains: git refs resolved from image tags, and the commits between two of them.

Images are tagged with a release name that is also a git tag (``hvb:1.8.0``
-> ``1.8.0`` or ``v1.8.0``) or with a commit sha (``hvb:4f3a9c1``,
``hvb:sha-4f3a9c1``), so the git history can say what a deploy or a
rollback changes. Used by ``opsctl changes ENV``, the deploy plan and the
GitHub and git gates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput
from opsctl.git.repo import open_repo
from opsctl.values.imageref import ImageRef

if TYPE_CHECKING:
    from git import Repo

_HEX = re.compile(r"^[0-9a-f]{7,40}$")


@dataclass(frozen=True)
class Commit:
    sha: str
    short: str
    subject: str
    author: str
    date: datetime  # authored, in UTC

    def as_dict(self) -> dict[str, Any]:
        return {
            "sha": self.sha,
            "short": self.short,
            "subject": self.subject,
            "author": self.author,
            "date": self.date.isoformat(),
        }


@dataclass(frozen=True)
class Resolved:
    """A ref resolved to a commit, and how (``git tag v1.8.0``, ``commit 4f3a9c1``, ``ref main``)."""

    sha: str
    how: str

    @property
    def short(self) -> str:
        return self.sha[:7]


def looks_like_sha(text: str) -> bool:
    """7 to 40 lower-case hex digits: how images are tagged with commits."""
    return bool(_HEX.match(text))


def candidates(ref: str) -> list[str]:
    """The git names an image tag may stand for, most likely first.

    ``hvb:1.8.0`` -> ``1.8.0``, ``v1.8.0``; ``sha-4f3a9c1`` -> ``4f3a9c1``.
    """
    # git refs cannot contain ":", image references (hvb:1.8.0, hvb@sha256:...) always do.
    image = ImageRef.try_parse(ref) if ":" in ref else None
    tag = image.version if image is not None else ref
    names = [tag]
    if tag.startswith("sha-") and looks_like_sha(tag[4:]):
        names.append(tag[4:])
    if re.match(r"^\d+(\.\d+)*([-+].*)?$", tag):
        names.append(f"v{tag}")
    return names


def _rev_parse(repo: Repo, name: str) -> str | None:
    import git

    # A leading dash would be read as an option by git; no ref or tag starts with one.
    if not name or name.startswith("-"):
        return None
    try:
        out = repo.git.rev_parse("--verify", "--quiet", f"{name}^{{commit}}")
    except git.GitCommandError:
        return None
    sha = str(out).strip()
    return sha or None


def _how(repo: Repo, name: str, sha: str) -> str:
    if any(t.name == name for t in repo.tags):
        return f"git tag {name}"
    if looks_like_sha(name) and sha.startswith(name):
        return f"commit {name[:12]}"
    return f"ref {name}"


def try_resolve(repo: Repo, ref: str) -> Resolved | None:
    """``ref`` (a git ref, a sha, an image tag or an image reference) as a commit, or None."""
    for name in candidates(ref.strip()):
        sha = _rev_parse(repo, name)
        if sha is not None:
            return Resolved(sha, _how(repo, name, sha))
    return None


def resolve_ref(repo: Repo, ref: str) -> Resolved:
    """Like :func:`try_resolve`, but BadInput naming the ref when it is not in the repository."""
    found = try_resolve(repo, ref)
    if found is None:
        tried = " or ".join(candidates(ref.strip()))
        raise BadInput(
            f"cannot resolve '{ref}' to a commit in {repo.working_tree_dir}: no git tag or commit {tried} "
            f"(fetch tags with: git fetch --tags)"
        )
    return found


def commits_between(repo_path: Path, from_ref: str, to_ref: str, limit: int = 50) -> list[Commit]:
    """Commits in ``to_ref`` that ``from_ref`` lacks, newest first, at most ``limit``.

    Refs may be git refs, shas, image tags or image references (see
    :func:`candidates`). When ``to_ref`` is behind ``from_ref`` (a rollback)
    the list is empty: swap the refs to see what the rollback takes away.
    An unknown ref raises BadInput naming it.
    """
    if limit < 1:
        raise BadInput(f"limit must be at least 1, got {limit}")
    repo = open_repo(repo_path)
    start = resolve_ref(repo, from_ref)
    end = resolve_ref(repo, to_ref)
    found = []
    for commit in repo.iter_commits(f"{start.sha}..{end.sha}", max_count=limit):
        message = commit.message if isinstance(commit.message, str) else commit.message.decode("utf-8", "replace")
        found.append(
            Commit(
                sha=commit.hexsha,
                short=commit.hexsha[:7],
                subject=message.strip().splitlines()[0] if message.strip() else "",
                author=str(commit.author.name or commit.author.email or "?"),
                date=commit.authored_datetime.astimezone(UTC),
            )
        )
    return found
