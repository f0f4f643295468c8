"""Git gates on real repositories made in tmp_path (a bare repository plays the remote)."""

from __future__ import annotations

from pathlib import Path

import git
import pytest
import yaml

from opsctl.engine.checklist import run_checklist
from opsctl.engine.loader import load_checklist
from opsctl.engine.outcome import Outcome, Status
from opsctl.errors import BadInput
from opsctl.workspace import Workspace
from tests.support.actions import call
from tests.support.context import base_config, make_ctx
from tests.support.util import write_checklist


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Commits work without the developer's or CI's git config, and are not affected by it."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")


def make_repo(path: Path) -> git.Repo:
    repo = git.Repo.init(path, initial_branch="main")
    (path / "README.md").write_text("hello\n")
    repo.git.add("README.md")
    repo.git.commit("-m", "first")
    return repo


def commit(repo: git.Repo, name: str, text: str = "x\n") -> None:
    Path(repo.working_tree_dir or ".", name).write_text(text)
    repo.git.add(name)
    repo.git.commit("-m", f"add {name}")


def with_remote(tmp_path: Path) -> tuple[git.Repo, git.Repo]:
    remote = git.Repo.init(tmp_path / "remote.git", bare=True, initial_branch="main")
    repo = make_repo(tmp_path / "repo")
    repo.create_remote("origin", str(tmp_path / "remote.git"))
    repo.git.push("-u", "origin", "main")
    return repo, remote


def gate(tmp_path: Path, name: str, env: str | None = "staging", **with_: object) -> Outcome:
    return call(make_ctx(tmp_path, env=env), name, path=str(tmp_path / "repo"), **with_)


# --- git.clean ------------------------------------------------------------------------------------------------


def test_clean_tree_passes(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo")
    outcome = gate(tmp_path, "git.clean")
    assert (outcome.status, outcome.summary) == (Status.PASSED, "working tree is clean")


def test_modified_and_untracked_files_fail(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo")
    (tmp_path / "repo" / "README.md").write_text("changed\n")
    (tmp_path / "repo" / "notes.txt").write_text("new\n")
    outcome = gate(tmp_path, "git.clean")

    assert outcome.status is Status.FAILED
    assert outcome.summary == (
        "working tree has 2 uncommitted change(s): M README.md, ?? notes.txt; commit or stash them"
    )
    assert outcome.detail["changes"] == [" M README.md", "?? notes.txt"]


def test_many_changes_are_shortened(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo")
    for n in range(7):
        (tmp_path / "repo" / f"f{n}.txt").write_text("x")
    outcome = gate(tmp_path, "git.clean")
    assert outcome.summary == (
        "working tree has 7 uncommitted change(s): ?? f0.txt, ?? f1.txt, ?? f2.txt, ?? f3.txt, ?? f4.txt ...; "
        "commit or stash them"
    )


def test_a_path_outside_any_repository_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    with pytest.raises(BadInput) as caught:
        gate(tmp_path, "git.clean")
    assert str(caught.value) == f"{tmp_path / 'repo'} is not inside a git repository"


def test_opsctl_state_in_the_project_does_not_make_it_dirty(tmp_path: Path) -> None:
    project = tmp_path / "project"
    repo = make_repo(project)
    (project / "opsctl.yaml").write_text(yaml.safe_dump(base_config()))
    write_checklist(project, "gate", {"title": "G", "items": [{"id": "clean", "title": "Clean", "uses": "git.clean"}]})
    repo.git.add(".")
    repo.git.commit("-m", "ops")
    ws = Workspace.load(str(project / "opsctl.yaml"), actor="t")
    ctx = ws.context(ws.journal(ws.new_run_id(), "test", None), None)

    result = run_checklist(ctx, load_checklist("gate", project))

    assert (project / ".opsctl" / "audit.jsonl").exists()  # the run wrote state inside the checkout
    assert result.items[0].summary == "working tree is clean"


# --- git.branch -----------------------------------------------------------------------------------------------


def test_on_the_allowed_branch(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo")
    outcome = gate(tmp_path, "git.branch", branch="main")
    assert (outcome.status, outcome.summary) == (Status.PASSED, "on branch main")


def test_on_the_wrong_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    repo.git.checkout("-b", "feature/x")
    outcome = gate(tmp_path, "git.branch", branch=["main", "release"])
    assert (outcome.status, outcome.summary) == (Status.FAILED, "on branch feature/x, expected main or release")
    assert outcome.detail == {"branch": "feature/x", "allowed": ["main", "release"]}


def test_protected_environment_defaults_to_main(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    repo.git.checkout("-b", "feature/x")
    outcome = gate(tmp_path, "git.branch", env="production")
    assert outcome.summary == "on branch feature/x, expected main"


def test_environment_branch_policy(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    repo.git.checkout("-b", "develop")
    config = base_config()
    config["environments"]["staging"]["git"] = {"branch": ["develop", "main"]}
    ctx = make_ctx(tmp_path, config)
    assert call(ctx, "git.branch", path=str(tmp_path / "repo")).summary == "on branch develop"


def test_any_branch_when_nothing_is_required(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    repo.git.checkout("-b", "spike")
    outcome = gate(tmp_path, "git.branch")
    assert (outcome.status, outcome.summary) == (Status.PASSED, "on branch spike (any branch allowed)")


def test_detached_head(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    sha = repo.head.commit.hexsha
    repo.git.checkout("--detach")
    outcome = gate(tmp_path, "git.branch", branch="main")
    assert (outcome.status, outcome.summary) == (Status.FAILED, f"HEAD is detached at {sha[:7]}; check out a branch")


# --- git.pushed -----------------------------------------------------------------------------------------------


def test_pushed(tmp_path: Path) -> None:
    with_remote(tmp_path)
    outcome = gate(tmp_path, "git.pushed")
    assert (outcome.status, outcome.summary) == (Status.PASSED, "main is pushed to origin/main")
    assert outcome.detail == {"branch": "main", "upstream": "origin/main", "ahead": 0, "behind": 0}


def test_unpushed_commit(tmp_path: Path) -> None:
    repo, _ = with_remote(tmp_path)
    commit(repo, "change.txt")
    outcome = gate(tmp_path, "git.pushed")
    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        "1 commit(s) on main not pushed to origin/main; run git push",
    )
    assert outcome.detail["ahead"] == 1


def test_behind_the_remote_after_fetch(tmp_path: Path) -> None:
    repo, _ = with_remote(tmp_path)
    other = git.Repo.clone_from(str(tmp_path / "remote.git"), tmp_path / "other")
    commit(other, "theirs.txt")
    other.git.push("origin", "main")

    assert gate(tmp_path, "git.pushed").summary == "main is pushed to origin/main"  # not fetched yet
    outcome = gate(tmp_path, "git.pushed", fetch=True)
    assert (outcome.status, outcome.summary) == (
        Status.PASSED,
        "main is pushed to origin/main (1 behind; pull to deploy the latest)",
    )
    assert repo.head.commit.hexsha != other.head.commit.hexsha


def test_no_upstream(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo")
    outcome = gate(tmp_path, "git.pushed")
    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        "branch main has no upstream; push it with: git push -u origin main",
    )


def test_detached_head_is_not_pushed(tmp_path: Path) -> None:
    repo, _ = with_remote(tmp_path)
    repo.git.checkout("--detach")
    outcome = gate(tmp_path, "git.pushed")
    assert (outcome.status, outcome.summary) == (Status.FAILED, "HEAD is detached; check out a branch before deploying")


def test_fetch_from_a_remote_that_is_gone(tmp_path: Path) -> None:
    import shutil

    with_remote(tmp_path)
    shutil.rmtree(tmp_path / "remote.git")
    outcome = gate(tmp_path, "git.pushed", fetch=True)
    assert outcome.status is Status.FAILED
    assert outcome.summary.startswith("cannot fetch origin/main: ")
