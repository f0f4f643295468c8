"""opsctl.git.changes: refs from image tags, and the commits between two releases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsctl.errors import BadInput
from opsctl.git.changes import Commit, commits_between, resolve_ref
from opsctl.git.repo import open_repo
from tests.support.gitrepo import make_repo


@pytest.fixture
def history(tmp_path: Path) -> dict[str, str]:
    repo = make_repo(tmp_path)
    shas = {"first": repo.commit("initial import")}
    repo.tag("v1.7.0")
    shas["fix"] = repo.commit("fix the booking parser", author="Grace Hopper")
    shas["feature"] = repo.commit("add late checkout intent")
    repo.tag("1.8.0", annotated=True)
    shas["after"] = repo.commit("docs")
    return shas


def test_commits_between_release_tags_newest_first(tmp_path: Path, history: dict[str, str]) -> None:
    found = commits_between(tmp_path, "v1.7.0", "1.8.0")
    assert found == [
        Commit(
            history["feature"],
            history["feature"][:7],
            "add late checkout intent",
            "Ada Lovelace",
            datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
        ),
        Commit(
            history["fix"],
            history["fix"][:7],
            "fix the booking parser",
            "Grace Hopper",
            datetime(2026, 11, 20, 11, 0, tzinfo=UTC),
        ),
    ]


def test_refs_may_be_image_tags_and_image_references(tmp_path: Path, history: dict[str, str]) -> None:
    # hvb:1.7.0 -> git tag v1.7.0; sha-<short> -> the commit; a full image reference -> its tag
    found = commits_between(tmp_path, "hvb:1.7.0", f"sha-{history['after'][:7]}")
    assert [c.subject for c in found] == ["docs", "add late checkout intent", "fix the booking parser"]
    assert [c.short for c in commits_between(tmp_path, history["first"][:7], "registry.example/hvb:1.8.0")] == [
        history["feature"][:7],
        history["fix"][:7],
    ]


def test_limit_and_a_rollback_direction(tmp_path: Path, history: dict[str, str]) -> None:
    assert len(commits_between(tmp_path, "v1.7.0", "HEAD", limit=1)) == 1
    assert commits_between(tmp_path, "1.8.0", "v1.7.0") == []  # going back adds nothing
    assert commits_between(tmp_path, "1.8.0", "1.8.0") == []


def test_resolve_says_how(tmp_path: Path, history: dict[str, str]) -> None:
    repo = open_repo(tmp_path)
    assert resolve_ref(repo, "1.7.0").how == "git tag v1.7.0"
    assert resolve_ref(repo, "1.8.0").sha == history["feature"]  # annotated tag -> its commit
    assert resolve_ref(repo, history["fix"][:9]).how == f"commit {history['fix'][:9]}"
    assert resolve_ref(repo, "main").how == "ref main"


def test_an_unresolvable_ref_is_bad_input_naming_it(tmp_path: Path, history: dict[str, str]) -> None:
    with pytest.raises(BadInput) as caught:
        commits_between(tmp_path, "v1.7.0", "hvb:2.0.0")
    assert str(caught.value) == (
        f"cannot resolve 'hvb:2.0.0' to a commit in {tmp_path}: no git tag or commit 2.0.0 or v2.0.0 "
        "(fetch tags with: git fetch --tags)"
    )
    with pytest.raises(BadInput, match="cannot resolve '--all'"):
        commits_between(tmp_path, "--all", "HEAD")


def test_not_a_repository_and_bad_limit(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="is not inside a git repository"):
        commits_between(tmp_path / "nowhere", "a", "b")
    with pytest.raises(BadInput, match="limit must be at least 1, got 0"):
        commits_between(tmp_path, "a", "b", limit=0)
