"""The Release type's JSON view, shared by --json output, run state and audit events."""

from __future__ import annotations

from datetime import UTC, datetime

from opsctl.platforms.base import Release


def test_as_dict_gives_id_image_tag_and_creation_time() -> None:
    made = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    release = Release(id="hvb-staging:12", image="registry.example.com:5000/hvb:1.8.0", created_at=made)
    assert release.as_dict() == {
        "id": "hvb-staging:12",
        "image": "registry.example.com:5000/hvb:1.8.0",
        "tag": "1.8.0",
        "created_at": "2026-11-27T10:00:00+00:00",
    }
    assert list(release.as_dict()) == ["id", "image", "tag", "created_at"]


def test_as_dict_without_a_creation_time() -> None:
    digest = "sha256:" + "a" * 64
    assert Release(id=f"hvb@{digest}", image=f"hvb@{digest}").as_dict() == {
        "id": f"hvb@{digest}",
        "image": f"hvb@{digest}",
        "tag": digest,
        "created_at": None,
    }


def test_detail_stays_out_of_the_json_view() -> None:
    release = Release(id="hvb:3", image="hvb:1.7.0", detail={"task_definition": {"secret": "x"}})
    assert "detail" not in release.as_dict()
