"""Finding the project's repository: "no repository here" is answered without importing GitPython."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import git
import pytest

from opsctl.errors import BadInput
from opsctl.git.repo import may_be_in_repo, open_repo
from tests.support.gitrepo import TestRepo

REPO = Path(__file__).resolve().parents[2]


def test_a_folder_outside_any_repository(tmp_path: Path) -> None:
    folder = tmp_path / "project" / "sub"
    folder.mkdir(parents=True)
    assert may_be_in_repo(folder) is False
    with pytest.raises(BadInput) as caught:
        open_repo(folder)
    assert str(caught.value) == f"{folder} is not inside a git repository"


def test_a_path_that_does_not_exist_gives_the_same_message(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert may_be_in_repo(missing) is False
    with pytest.raises(BadInput) as caught:
        open_repo(missing)
    assert str(caught.value) == f"{missing} is not inside a git repository"


def test_a_repository_and_its_subfolders_are_opened(tmp_path: Path) -> None:
    repo = TestRepo(tmp_path / "checkout")
    repo.commit("first")
    sub = repo.path / "deep" / "er"
    sub.mkdir(parents=True)
    for path in (repo.path, sub):
        assert may_be_in_repo(path) is True
        assert Path(str(open_repo(path).working_tree_dir)) == repo.path


def test_a_bare_repository_and_a_git_file_are_left_to_gitpython(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git.Repo.init(bare, bare=True)
    assert may_be_in_repo(bare) is True
    assert Path(open_repo(bare).git_dir) == bare
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / ".git").write_text("gitdir: /nowhere\n")  # a worktree's pointer: GitPython decides
    assert may_be_in_repo(linked) is True
    with pytest.raises(BadInput) as caught:
        open_repo(linked)
    assert str(caught.value) == f"{linked} is not inside a git repository"


def test_paths_gitpython_would_expand_are_left_to_it(tmp_path: Path) -> None:
    assert may_be_in_repo(Path("~/project")) is True
    assert may_be_in_repo(Path("$HOME/project")) is True


def test_no_repository_imports_no_gitpython(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from opsctl.git.changes import commits_between\n"
        "from opsctl.errors import BadInput\n"
        "try:\n"
        f"    commits_between(Path({str(tmp_path)!r}), 'hvb:1.0.0', 'hvb:1.1.0')\n"
        "except BadInput as exc:\n"
        "    print(exc)\n"
        "print('git' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{tmp_path} is not inside a git repository", "False"]
