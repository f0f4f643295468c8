"""``opsctl changes ENV``: the commits between the release an environment runs and HEAD (or --image)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import git
import pytest

from tests.e2e.policy.support import Project, error_line, output

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _commit(project: Project, subject: str, author: str, hours: int) -> str:
    name = f"src/{hours}.txt"
    project.write(name, f"{subject}\n", commit=False)
    project.repo.index.add([name])
    when = f"{int((START + timedelta(hours=hours)).timestamp())} +0000"
    who = git.Actor(author, "dev@example.com")
    return project.repo.index.commit(subject, author=who, committer=who, author_date=when, commit_date=when).hexsha


@pytest.fixture
def history(project: Project) -> dict[str, str]:
    """v1.7.0 (what both environments run), two commits to v1.8.0, one more on HEAD."""
    project.repo.create_tag("v1.7.0")
    shas = {
        "fix": _commit(project, "Fix the booking parser", "Grace Hopper", 1),
        "feature": _commit(project, "Add late checkout intent", "Ada Lovelace", 2),
    }
    project.repo.create_tag("v1.8.0")
    shas["docs"] = _commit(project, "Document the freeze windows", "Ada Lovelace", 26)
    return shas


def test_changes_lists_the_commits_from_the_running_release_to_head(project: Project, history: dict[str, str]) -> None:
    result = project.invoke("changes", "production")

    assert result.exit_code == 0, output(result)
    assert result.stdout.splitlines() == [
        "production runs hvb:1.7.0; 3 commit(s) up to HEAD:",
        f"  {history['docs'][:7]} Document the freeze windows (Ada Lovelace, 2026-12-02)",
        f"  {history['feature'][:7]} Add late checkout intent (Ada Lovelace, 2026-12-01)",
        f"  {history['fix'][:7]} Fix the booking parser (Grace Hopper, 2026-12-01)",
    ]


def test_changes_up_to_an_image_as_json(project: Project, history: dict[str, str]) -> None:
    result = project.invoke("--json", "changes", "production", "--image", "hvb:1.8.0")

    assert result.exit_code == 0, output(result)
    data = json.loads(result.stdout)
    assert (data["env"], data["from"]["image"], data["to"]) == ("production", "hvb:1.7.0", "hvb:1.8.0")
    assert data["commits"] == [
        {
            "sha": history["feature"],
            "subject": "Add late checkout intent",
            "author": "Ada Lovelace",
            "date": "2026-12-01T11:00:00+00:00",
        },
        {
            "sha": history["fix"],
            "subject": "Fix the booking parser",
            "author": "Grace Hopper",
            "date": "2026-12-01T10:00:00+00:00",
        },
    ]


def test_changes_to_an_image_that_is_no_git_ref_exits_2_naming_it(project: Project, history: dict[str, str]) -> None:
    result = project.invoke("changes", "production", "--image", "hvb:2.0.0")

    assert result.exit_code == 2, output(result)
    assert error_line(result) == (
        f"error: cannot resolve 'hvb:2.0.0' to a commit in {project.path}: no git tag or commit 2.0.0 or v2.0.0 "
        "(fetch tags with: git fetch --tags)"
    )
