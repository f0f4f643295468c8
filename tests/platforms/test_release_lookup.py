"""How image-addressed drivers (Fly, Kubernetes) find a release and judge whether it can be deployed."""

from __future__ import annotations

from opsctl.platforms.base import Release, pullable, release_by_image

KNOWN = [
    Release("registry.fly.io/hvb:1.8.0", "registry.fly.io/hvb:1.8.0", detail={"revision": 3}),
    Release("hvb:1.7.0", "hvb:1.7.0", detail={"revision": 2}),
    Release("registry.fly.io/other:1.7.0", "registry.fly.io/other:1.7.0", detail={"revision": 1}),
]


def test_an_exact_image_wins_over_a_suffix_and_a_tag() -> None:
    assert release_by_image(KNOWN, "hvb:1.7.0") is KNOWN[1]
    assert release_by_image(KNOWN, "hvb:1.8.0") is KNOWN[0]  # registry.fly.io/hvb:1.8.0 ends with /hvb:1.8.0
    assert release_by_image(KNOWN, "1.7.0") is KNOWN[1]  # a bare tag: the first release carrying it
    assert release_by_image(KNOWN, "hvb:9.9.9") is None


def test_a_drivers_own_tests_come_last() -> None:
    assert release_by_image(KNOWN, "r1", lambda r: r.detail.get("revision") == 1) is KNOWN[2]
    assert release_by_image(KNOWN, "1.7.0", lambda r: r.detail.get("revision") == 1) is KNOWN[1]


def test_pullable_names_the_platform_or_the_bad_reference() -> None:
    assert pullable(KNOWN[0], "Fly") == (True, "Fly pulls the image by reference")
    assert pullable(Release("x", "Not An Image!"), "Kubernetes") == (False, "not an image reference: 'Not An Image!'")
