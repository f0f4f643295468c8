"""Extra git gates: ``git.tag`` (the image being deployed was built from HEAD)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.errors import BadInput
from opsctl.values.imageref import ImageRef

if TYPE_CHECKING:
    from git import Repo


class GitTagParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str | None = Field(None, description="image reference (default: params.image)")
    pattern: str | None = Field(
        None, description="regex: image tags matching it must be a git tag at HEAD (default: env git.tag_pattern)"
    )
    path: str | None = Field(None, description="repository path (default: the project folder)")


def _tags_at(repo: Repo) -> dict[str, str]:
    """Every git tag name -> the commit it points at (tags of non-commits are left out)."""
    found = {}
    for tag in repo.tags:
        try:
            found[tag.name] = tag.commit.hexsha
        except ValueError:
            continue
    return found


def _pattern(ctx: RunContext, params: GitTagParams) -> re.Pattern[str] | None:
    text = params.pattern
    if text is None and ctx.env_name is not None:
        text = ctx.env.git.tag_pattern
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise BadInput(f"git.tag: pattern {text!r} is not a valid regular expression: {exc}") from None


@action("git.tag", GitTagParams)
def git_tag(ctx: RunContext, params: GitTagParams) -> Outcome:
    """The image tag is HEAD's sha (full or short) or a git tag pointing at HEAD."""
    from opsctl.git.changes import looks_like_sha
    from opsctl.git.repo import open_repo

    ref = ImageRef.parse(params.image) if params.image else ctx.request.image
    if ref is None:
        return Outcome.failed("no image to compare with HEAD: pass --image or give with: image")
    image = str(ref)
    pattern = _pattern(ctx, params)
    path = ctx.project_dir if params.path is None else Path(params.path)
    repo = open_repo(path if path.is_absolute() else ctx.project_dir / path)
    if not repo.head.is_valid():
        return Outcome.failed("the repository has no commits yet")
    head = repo.head.commit.hexsha
    short = head[:7]
    tag = ref.version
    detail: dict[str, Any] = {"image": image, "tag": tag, "head": head, "pattern": pattern.pattern if pattern else None}
    release = pattern is not None and pattern.fullmatch(tag) is not None
    sha = tag[4:] if tag.startswith("sha-") else tag
    if not release and looks_like_sha(sha) and head.startswith(sha):
        return Outcome.passed(f"image tag {tag} is HEAD ({short})", **detail)
    tags = _tags_at(repo)
    names = [tag, f"v{tag}"]
    for name in names:
        if tags.get(name) == head:
            return Outcome.passed(f"image tag {tag} is git tag {name} at HEAD ({short})", git_tag=name, **detail)
    if not release and looks_like_sha(sha) and not any(name in tags for name in names):
        return Outcome.failed(
            f"image tag {tag} is not HEAD: HEAD is {short}; build the image from HEAD or check out {sha}", **detail
        )
    at_head = sorted(name for name, commit in tags.items() if commit == head)
    head_note = f"HEAD {short} is tagged {', '.join(at_head)}" if at_head else f"HEAD {short} has no git tag"
    elsewhere = next((name for name in names if name in tags), None)
    if elsewhere is not None:
        return Outcome.failed(
            f"git tag {elsewhere} points at {tags[elsewhere][:7]}, not HEAD ({head_note}); "
            f"check out {elsewhere} or deploy an image built from HEAD",
            **detail,
        )
    if release:
        return Outcome.failed(
            f"image tag {tag} matches the release pattern {detail['pattern']} but there is no git tag {tag} "
            f"({head_note}); tag the release: git tag {tag} && git push origin {tag}",
            **detail,
        )
    wanted = f"a release tag matching {detail['pattern']}" if pattern else "a git tag at HEAD"
    return Outcome.failed(f"image tag {tag} is neither HEAD's sha ({short}) nor {wanted} ({head_note})", **detail)
