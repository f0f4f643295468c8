"""Facts about the project's git checkout (gitpython, imported on first use)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput

if TYPE_CHECKING:
    from git import Repo


def open_repo(path: Path) -> Repo:
    """The repository containing ``path``; BadInput when there is none."""
    import git

    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise BadInput(f"{path} is not inside a git repository") from None


def describe(repo: Repo) -> dict[str, Any]:
    head = repo.head
    detached = head.is_detached
    sha = head.commit.hexsha if head.is_valid() else None
    tags = [t.name for t in repo.tags if sha is not None and t.commit.hexsha == sha]
    return {
        "sha": sha,
        "short_sha": sha[:7] if sha else None,
        "branch": None if detached or not head.is_valid() else repo.active_branch.name,
        "tags": tags,
        "tag": tags[0] if tags else None,
        "dirty": repo.is_dirty(untracked_files=True),
        "root": str(repo.working_tree_dir),
    }


class LazyGit(Mapping[str, Any]):
    """``git.sha``, ``git.branch``... in templates; reads the repository only when first used."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._data: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            try:
                self._data = describe(open_repo(self._path))
            except BadInput:
                self._data = {}
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())
