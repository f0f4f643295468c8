"""git.tag: the image being deployed was built from HEAD (its sha, or a git tag at HEAD)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsctl.actions.gitgates import GitTagParams, git_tag
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Status
from opsctl.errors import BadInput
from tests.support.context import base_config, make_ctx
from tests.support.gitrepo import TestRepo, make_repo

RELEASE = r"^\d+\.\d+\.\d+$"


def ctx_for(tmp_path: Path, *, tag_pattern: str | None = None, **kwargs: Any) -> RunContext:
    config = base_config()
    if tag_pattern is not None:
        config["environments"]["staging"]["git"] = {"tag_pattern": tag_pattern}
    return make_ctx(tmp_path, config, **kwargs)


@pytest.fixture
def repo(tmp_path: Path) -> TestRepo:
    made = make_repo(tmp_path)
    made.commit("first")
    return made


def check(ctx: RunContext, **with_: Any) -> tuple[Status, str]:
    outcome = git_tag(ctx, GitTagParams.model_validate(with_))
    return outcome.status, outcome.summary


@pytest.mark.parametrize("form", ["short", "long", "full", "sha-"])
def test_image_tagged_with_heads_sha_passes(tmp_path: Path, repo: TestRepo, form: str) -> None:
    head = repo.commit("second")
    tag = {"short": head[:7], "long": head[:12], "full": head, "sha-": f"sha-{head[:7]}"}[form]
    ctx = ctx_for(tmp_path, params={"image": f"registry.example/hvb:{tag}"})
    assert check(ctx) == (Status.PASSED, f"image tag {tag} is HEAD ({head[:7]})")


def test_image_of_another_commit_fails_naming_both(tmp_path: Path, repo: TestRepo) -> None:
    old = repo.repo.head.commit.hexsha
    head = repo.commit("second")
    ctx = ctx_for(tmp_path)
    assert check(ctx, image=f"hvb:{old[:7]}") == (
        Status.FAILED,
        f"image tag {old[:7]} is not HEAD: HEAD is {head[:7]}; build the image from HEAD or check out {old[:7]}",
    )


def test_release_tag_at_head_passes_with_the_env_pattern(tmp_path: Path, repo: TestRepo) -> None:
    repo.tag("v1.8.0")
    head = repo.repo.head.commit.hexsha
    ctx = ctx_for(tmp_path, tag_pattern=RELEASE, params={"image": "hvb:1.8.0"})
    outcome = git_tag(ctx, GitTagParams())
    assert (outcome.status, outcome.summary) == (
        Status.PASSED,
        f"image tag 1.8.0 is git tag v1.8.0 at HEAD ({head[:7]})",
    )
    assert outcome.detail["pattern"] == RELEASE
    assert outcome.detail["git_tag"] == "v1.8.0"


def test_annotated_tag_with_the_exact_name_passes_without_a_pattern(tmp_path: Path, repo: TestRepo) -> None:
    repo.tag("2026.11.27", annotated=True)
    head = repo.repo.head.commit.hexsha
    ctx = ctx_for(tmp_path)
    assert check(ctx, image="hvb:2026.11.27") == (
        Status.PASSED,
        f"image tag 2026.11.27 is git tag 2026.11.27 at HEAD ({head[:7]})",
    )


def test_release_tag_on_an_older_commit_fails(tmp_path: Path, repo: TestRepo) -> None:
    repo.tag("1.8.0")
    tagged = repo.repo.head.commit.hexsha
    head = repo.commit("after the release")
    ctx = ctx_for(tmp_path, tag_pattern=RELEASE)
    assert check(ctx, image="hvb:1.8.0") == (
        Status.FAILED,
        f"git tag 1.8.0 points at {tagged[:7]}, not HEAD (HEAD {head[:7]} has no git tag); "
        "check out 1.8.0 or deploy an image built from HEAD",
    )


def test_release_name_without_a_git_tag_fails_with_the_fix(tmp_path: Path, repo: TestRepo) -> None:
    repo.tag("1.7.0")
    head = repo.repo.head.commit.hexsha
    ctx = ctx_for(tmp_path)
    assert check(ctx, image="hvb:1.8.0", pattern=RELEASE) == (
        Status.FAILED,
        rf"image tag 1.8.0 matches the release pattern {RELEASE} but there is no git tag 1.8.0 "
        f"(HEAD {head[:7]} is tagged 1.7.0); tag the release: git tag 1.8.0 && git push origin 1.8.0",
    )


def test_a_tag_that_is_neither_fails_naming_what_was_compared(tmp_path: Path, repo: TestRepo) -> None:
    head = repo.repo.head.commit.hexsha[:7]
    assert check(ctx_for(tmp_path), image="hvb:latest") == (
        Status.FAILED,
        f"image tag latest is neither HEAD's sha ({head}) nor a git tag at HEAD (HEAD {head} has no git tag)",
    )
    assert check(ctx_for(tmp_path, tag_pattern=RELEASE), image="hvb:latest") == (
        Status.FAILED,
        f"image tag latest is neither HEAD's sha ({head}) nor a release tag matching {RELEASE} "
        f"(HEAD {head} has no git tag)",
    )


def test_without_an_image_it_fails_saying_how_to_give_one(tmp_path: Path, repo: TestRepo) -> None:
    assert check(ctx_for(tmp_path)) == (
        Status.FAILED,
        "no image to compare with HEAD: pass --image or give with: image",
    )


def test_an_invalid_pattern_is_bad_input(tmp_path: Path, repo: TestRepo) -> None:
    with pytest.raises(BadInput) as caught:
        check(ctx_for(tmp_path), image="hvb:1.0.0", pattern="([")
    assert str(caught.value).startswith("git.tag: pattern '([' is not a valid regular expression: ")


def test_an_all_digit_tag_that_is_a_git_tag_at_head_is_not_mistaken_for_a_sha(tmp_path: Path, repo: TestRepo) -> None:
    repo.tag("20261127")
    head = repo.repo.head.commit.hexsha[:7]
    assert check(ctx_for(tmp_path), image="hvb:20261127") == (
        Status.PASSED,
        f"image tag 20261127 is git tag 20261127 at HEAD ({head})",
    )
