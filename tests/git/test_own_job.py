"""OwnJob: which check run is the GitHub Actions job opsctl runs in (GITHUB_RUN_ID / GITHUB_JOB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.git.own_job import OwnJob

RUN = "https://github.com/acme/hvb/actions/runs/4242/job/99"
OTHER_RUN = "https://github.com/acme/hvb/actions/runs/4243/job/12"
WORKFLOW = """\
name: deploy
jobs:
  staging:
    name: Deploy to staging
    runs-on: ubuntu-latest
  matrix-deploy:
    name: Deploy ${{ matrix.env }} [${{ matrix.region }}]
    runs-on: ubuntu-latest
  bare:
    runs-on: ubuntu-latest
"""


def actions_env(job: str, workspace: Path | None = None, **extra: str) -> dict[str, str]:
    env = {"GITHUB_RUN_ID": "4242", "GITHUB_JOB": job, "GITHUB_REPOSITORY": "acme/hvb"}
    if workspace is not None:
        env["GITHUB_WORKSPACE"] = str(workspace)
        env["GITHUB_WORKFLOW_REF"] = "acme/hvb/.github/workflows/deploy.yml@refs/heads/main"
    return {**env, **extra}


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "deploy.yml").write_text(WORKFLOW)
    return tmp_path


@pytest.mark.parametrize(
    "environ",
    [{}, {"GITHUB_RUN_ID": "4242"}, {"GITHUB_JOB": "staging"}, {"GITHUB_RUN_ID": "x1", "GITHUB_JOB": "staging"}],
)
def test_outside_github_actions_there_is_no_own_job(environ: dict[str, str]) -> None:
    assert OwnJob.from_env(environ) is None


def test_the_job_key_matches_in_its_own_run_only() -> None:
    own = OwnJob.from_env(actions_env("bare"))
    assert own is not None
    assert own.owns("bare", RUN)
    assert own.owns("bare (3.11, ubuntu)", RUN)  # a matrix job without a name
    assert not own.owns("bare", OTHER_RUN)  # the same job of another workflow run still counts
    assert not own.owns("bare", None)  # not an Actions check run
    assert not own.owns("bare", "https://ci.example.test/actions/runs/42424/job/1")
    assert not own.owns("bare-tests", RUN)
    assert not own.owns("lint", RUN)  # another job of this very run counts


def test_the_jobs_display_name_comes_from_the_workflow_file(checkout: Path) -> None:
    own = OwnJob.from_env(actions_env("staging", checkout))
    assert own is not None
    assert own.owns("Deploy to staging", RUN)
    assert own.owns("staging", RUN)
    assert not own.owns("Deploy to staging", OTHER_RUN)
    assert not own.owns("Deploy to production", RUN)


def test_expressions_in_the_name_match_anything_and_brackets_are_literal(checkout: Path) -> None:
    own = OwnJob.from_env(actions_env("matrix-deploy", checkout))
    assert own is not None
    assert own.owns("Deploy staging [eu-west-1]", RUN)
    assert not own.owns("Deploy staging e", RUN)  # "[...]" is no character class


def test_the_project_folder_is_the_checkout_without_github_workspace(checkout: Path) -> None:
    env = actions_env("staging", checkout)
    del env["GITHUB_WORKSPACE"]
    own = OwnJob.from_env(env, checkout)
    assert own is not None
    assert own.owns("Deploy to staging", RUN)


@pytest.mark.parametrize(
    "content", [None, "jobs: [1, 2]\n", "jobs:\n  staging: {name: 7}\n", "::: not yaml {", b"\xff\xfe"]
)
def test_an_unreadable_workflow_leaves_the_job_key(tmp_path: Path, content: str | bytes | None) -> None:
    if content is not None:
        (tmp_path / ".github" / "workflows").mkdir(parents=True)
        target = tmp_path / ".github" / "workflows" / "deploy.yml"
        target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)
    own = OwnJob.from_env(actions_env("staging", tmp_path))
    assert own is not None
    assert own.owns("staging", RUN)
    assert not own.owns("Deploy to staging", RUN)


@pytest.mark.parametrize(
    "ref", ["acme/hvb/deploy.yml@refs/heads/main", "acme/hvb/.github/workflows/../workflows/deploy.yml@refs/heads/x"]
)
def test_a_workflow_ref_outside_github_workflows_is_not_read(checkout: Path, ref: str) -> None:
    own = OwnJob.from_env(actions_env("staging", checkout, GITHUB_WORKFLOW_REF=ref))
    assert own is not None
    assert not own.owns("Deploy to staging", RUN)
