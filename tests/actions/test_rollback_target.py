"""How a rollback target is named: release id, image, and the digest when the platform knows one."""

from __future__ import annotations

from opsctl.actions.rollback_target import RollbackTarget
from opsctl.platforms.base import Release

DIGEST = "sha256:" + "ab" * 32


def test_a_target_is_named_by_release_and_image() -> None:
    assert RollbackTarget(Release("hvb:2", "hvb:1.8.0"), "why").describe() == "hvb:2 (hvb:1.8.0)"


def test_a_known_digest_is_named_when_the_image_does_not_name_it() -> None:
    release = Release("hvb:2", "hvb:1.8.0", detail={"digest": DIGEST})
    assert RollbackTarget(release, "why").describe() == f"hvb:2 (hvb:1.8.0, digest {DIGEST})"


def test_an_image_pinned_by_digest_is_not_named_twice() -> None:
    image = f"registry.fly.io/hvb@{DIGEST}"
    release = Release(image, image, detail={"digest": DIGEST})
    assert RollbackTarget(release, "why").describe() == f"{image} ({image})"
