"""How a rollback target is named: release id, image, and the digest when the platform knows one."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.actions.rollback_target import RollbackTarget, choose_target
from opsctl.engine.context import RunContext
from opsctl.errors import Unavailable
from opsctl.platforms.base import Release
from tests.health.helpers import FakePlatform
from tests.kpis.logbook import Logbook
from tests.support.context import make_ctx

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


class _Releases(FakePlatform):
    """Runs the failed hvb:1.9.0 (staging:s3); before it ran staging:s2 and, verified, staging:s1."""

    def __init__(self) -> None:
        super().__init__("hvb:1.9.0")
        self.release = Release("staging:s3", "hvb:1.9.0")
        self.history = [self.release, Release("staging:s2", "hvb:1.7.0"), Release("staging:s1", "hvb:1.8.0")]

    def releases(self, limit: int = 20) -> list[Release]:
        return self.history[:limit]

    def can_deploy(self, release: Release) -> tuple[bool, str]:
        return True, "deployable"


class _DeadBucket:
    """A signed S3 record that cannot be reached."""

    def problem(self, run: object) -> str | None:
        raise Unavailable("the S3 audit record (bucket hvb-audit) is unreachable: connection refused")


def _failed_deploy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunContext:
    book = Logbook(tmp_path / ".opsctl" / "audit.jsonl")
    book.run("s1", "deploy", "staging", "11-02 10:00", "11-02 10:20", "succeeded", image="hvb:1.8.0")
    monkeypatch.setattr("opsctl.audit.mirror.record.signed_record", lambda *_args: _DeadBucket())
    ctx = make_ctx(tmp_path)
    ctx.platform_factory = _Releases
    ctx.state.previous = {"id": "staging:s2", "image": "hvb:1.7.0"}
    ctx.state.attempted = {"id": "staging:s3", "image": "hvb:1.9.0"}
    return ctx


def test_an_automatic_rollback_does_not_wait_for_an_unreachable_signed_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _failed_deploy(tmp_path, monkeypatch)
    ctx.journal.extra["rollback_of"] = "deploy"

    target = choose_target(ctx, None)

    # Without the signed record no verification counts: staging:s1 is not taken on the log's word.
    assert (target.release.id, target.why) == (
        "staging:s2",
        "the previous release on the platform (not verified by opsctl yet)",
    )


def test_a_rollback_a_person_asked_for_stops_when_the_signed_record_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _failed_deploy(tmp_path, monkeypatch)

    with pytest.raises(Unavailable, match="bucket hvb-audit"):
        choose_target(ctx, None)
