"""Real git repositories in tmp_path (gitpython), with fixed authors and dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import git

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class TestRepo:
    """A repository whose commits are numbered: commit(n) writes file n and returns the sha."""

    __test__ = False  # not a pytest test class

    def __init__(self, path: Path) -> None:
        self.path = path
        self.repo = git.Repo.init(path, initial_branch="main")
        with self.repo.config_writer() as config:
            config.set_value("user", "name", "Ada Lovelace")
            config.set_value("user", "email", "ada@example.com")
            config.set_value("commit", "gpgsign", "false")
            config.set_value("tag", "gpgsign", "false")
        self.count = 0

    def commit(self, subject: str, author: str = "Ada Lovelace") -> str:
        self.count += 1
        name = f"src/change-{self.count}.txt"
        (self.path / name).parent.mkdir(exist_ok=True)
        (self.path / name).write_text(f"{subject}\n")
        self.repo.index.add([name])
        when = f"{int((START + timedelta(hours=self.count)).timestamp())} +0000"
        made = self.repo.index.commit(
            f"{subject}\n\nbody line",
            author=git.Actor(author, "dev@example.com"),
            committer=git.Actor(author, "dev@example.com"),
            author_date=when,
            commit_date=when,
        )
        return made.hexsha

    def tag(self, name: str, sha: str | None = None, *, annotated: bool = False) -> None:
        ref = sha or self.repo.head.commit.hexsha
        if annotated:
            self.repo.create_tag(name, ref=ref, message=f"release {name}")
        else:
            self.repo.create_tag(name, ref=ref)


def make_repo(path: Path) -> TestRepo:
    return TestRepo(path)
