"""Git and GitHub gates in pre-deploy: what a protected environment asks of the project's repository."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.policy.support import APPROVER, CONFIRMS, Project, Receiver, output, step_events


def _finished(project: Project, step: str) -> dict[str, object]:
    (event,) = [e for e in step_events(project.events(project.last_run()), step) if e["status"] != "started"]
    return event


def _dirty(project: Project) -> None:
    (project.path / "notes.txt").write_text("todo\n")


def _feature_branch(project: Project) -> None:
    project.repo.git.checkout("-q", "-b", "feature")


def _unpushed(project: Project) -> None:
    project.write("docs.md", "x\n", commit=False)
    project.repo.index.add(["docs.md"])
    project.repo.index.commit("local only")


@pytest.mark.parametrize(
    ("breakage", "failed", "summaries"),
    [
        (
            _dirty,
            "git-clean",
            {"git-clean": "working tree has 1 uncommitted change(s): ?? notes.txt; commit or stash them"},
        ),
        (
            _feature_branch,
            "git-branch, git-pushed",
            {
                "git-branch": "on branch feature, expected main",
                "git-pushed": "branch feature has no upstream; push it with: git push -u origin feature",
            },
        ),
        (_unpushed, "git-pushed", {"git-pushed": "1 commit(s) on main not pushed to origin/main; run git push"}),
    ],
    ids=["dirty-tree", "other-branch", "unpushed"],
)
def test_a_protected_environment_wants_a_clean_pushed_main(
    project: Project, breakage: Callable[[Project], None], failed: str, summaries: dict[str, str]
) -> None:
    breakage(project)

    result = project.deploy("production", "hvb:1.8.0")

    assert result.exit_code == 1, output(result)
    assert project.image("production") == "hvb:1.7.0"
    assert project.run_end(project.last_run())["summary"] == (
        f"step pre-deploy failed: Pre-deployment checklist: failed ({failed})"
    )
    for item, summary in summaries.items():
        event = _finished(project, f"pre-deploy/{item}")
        assert (event["status"], event["summary"]) == ("failed", summary)


def test_an_unprotected_environment_is_not_held_by_the_git_gates(project: Project) -> None:
    _dirty(project)
    _feature_branch(project)

    result = project.invoke("checklist", "run", "pre-deploy", "--env", "staging", *CONFIRMS, "--set", "image=hvb:1.8.0")

    assert result.exit_code == 0, output(result)
    for item in ("git-clean", "git-branch", "git-pushed"):
        event = _finished(project, f"pre-deploy/{item}")
        # Not "skipped": its `when` says it does not apply here (issue 13).
        assert (event["status"], event["summary"]) == ("not_applicable", "does not apply (when: env.protected)")


def test_a_release_tag_must_be_a_git_tag_at_head(project: Project) -> None:
    project.configure(production={"git": {"tag_pattern": r"\d+\.\d+\.\d+"}})
    head = project.repo.head.commit.hexsha[:7]

    refused = project.deploy("production", "hvb:1.8.0")

    assert refused.exit_code == 1, output(refused)
    event = _finished(project, "pre-deploy/git-tag")
    assert (event["status"], event["summary"]) == (
        "failed",
        (
            rf"image tag 1.8.0 matches the release pattern \d+\.\d+\.\d+ but there is no git tag 1.8.0 "
            f"(HEAD {head} has no git tag); tag the release: git tag 1.8.0 && git push origin 1.8.0"
        ),
    )
    assert project.image("production") == "hvb:1.7.0"

    project.repo.create_tag("v1.8.0")
    done = project.deploy("production", "hvb:1.8.0")

    assert done.exit_code == 0, output(done)
    event = _finished(project, "pre-deploy/git-tag")
    assert (event["status"], event["summary"]) == ("passed", f"image tag 1.8.0 is git tag v1.8.0 at HEAD ({head})")
    assert project.image("production") == "hvb:1.8.0"


def test_github_checks_that_are_not_green_hold_the_deploy(
    project: Project, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.configure(github={"repo": "acme/hvb", "api_url": receiver.url, "token_env": "HVB_GH_TOKEN"})
    project.repo.create_tag("v1.8.0")
    monkeypatch.setenv("HVB_GH_TOKEN", "gh-policy-token-0123456789abcdef")
    sha = project.repo.head.commit.hexsha
    receiver.route(
        "GET",
        f"/repos/acme/hvb/commits/{sha}/check-runs",
        {
            "check_runs": [
                {"name": "lint", "status": "completed", "conclusion": "success"},
                {"name": "unit", "status": "completed", "conclusion": "failure"},
            ]
        },
    )
    receiver.route("GET", f"/repos/acme/hvb/commits/{sha}/status", {"statuses": []})
    receiver.route("GET", f"/repos/acme/hvb/commits/{sha}/pulls", [])

    result = project.deploy("staging", "hvb:1.8.0", "--approved-by", APPROVER)

    assert result.exit_code == 1, output(result)
    assert project.image("staging") == "hvb:1.7.0"
    tests = _finished(project, "pre-deploy/tests")
    assert (tests["status"], tests["summary"]) == (
        "failed",
        f"CI is not green on {sha[:7]} (image hvb:1.8.0: git tag v1.8.0): failing: unit (failure)",
    )
    review = _finished(project, "pre-deploy/code-review")
    assert (review["status"], review["summary"]) == (
        "failed",
        (
            f"no pull request found for {sha[:7]} (image hvb:1.8.0: git tag v1.8.0): changes must be merged "
            "through a reviewed pull request"
        ),
    )
