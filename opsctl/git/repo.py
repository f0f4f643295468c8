"""Facts about the project's git checkout (gitpython, imported on first use)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput

if TYPE_CHECKING:
    from git import Repo


def open_repo(path: Path) -> Repo:
    """The repository containing ``path``; BadInput when there is none."""
    if not may_be_in_repo(path):  # the common "no repository here" answer, without importing GitPython
        raise BadInput(f"{path} is not inside a git repository")
    import git

    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise BadInput(f"{path} is not inside a git repository") from None


def may_be_in_repo(path: Path) -> bool:
    """False only when GitPython certainly finds no repository at ``path`` or above it.

    GitPython looks, from ``path`` up, for a ``.git`` entry or a folder with a
    ``HEAD`` (a bare repository); with neither anywhere, or no such path, it
    fails. Paths it would expand (``~``, ``$VAR``) are left to it.
    """
    text = os.fspath(path)
    if "~" in text or "$" in text:
        return True
    here = os.path.abspath(text)
    if not os.path.exists(here):
        return False
    while True:
        if os.path.lexists(os.path.join(here, ".git")) or os.path.lexists(os.path.join(here, "HEAD")):
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


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
