"""How the drivers read and check image references: one parser (opsctl.values.imageref) for all."""

from __future__ import annotations

import pytest

from opsctl.config import EcsPlatformConfig
from opsctl.errors import BadInput
from opsctl.platforms.base import Release, RolloutOptions, checked_image
from opsctl.platforms.ecs import EcsPlatform
from opsctl.platforms.fly_machines import runs_image
from opsctl.values.imageref import ImageRef

DIGEST = "sha256:" + "ab" * 32
FAST = RolloutOptions(timeout=1.0)


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("hvb:1.8.0", "1.8.0"),
        ("registry.example.com:5000/team/hvb:1.8.0", "1.8.0"),
        (f"hvb@{DIGEST}", DIGEST),
        (f"hvb:1.8.0@{DIGEST}", "1.8.0"),  # the version the bot reports, not the pin
        ("hvb", "latest"),  # what a registry serves for a bare name
        ("?", "unknown"),  # a platform without an image
        ("hvb:1.8.0é", "unknown"),
    ],
)
def test_a_release_tag_comes_from_the_parsed_image(image: str, tag: str) -> None:
    assert Release(id="r", image=image).tag == tag


def test_drivers_accept_bare_names_and_refuse_what_is_no_reference() -> None:
    assert checked_image("ghcr.io/team/hvb") == ImageRef("ghcr.io", "team/hvb")
    with pytest.raises(BadInput) as raised:
        checked_image("hvb 1.8")
    assert str(raised.value) == "not an image reference: 'hvb 1.8' (expected [registry/]name[:tag][@digest])"


@pytest.mark.parametrize("call", ["plan", "deploy"])
def test_ecs_refuses_a_malformed_image_before_calling_aws(call: str) -> None:
    # Nothing listens on port 9: any AWS call would fail as unavailable, not as bad input.
    config = {"kind": "ecs", "region": "eu-west-1", "cluster": "c", "service": "s", "container": "bot"}
    platform = EcsPlatform.from_config(
        EcsPlatformConfig.model_validate({**config, "endpoint_url": "http://127.0.0.1:9"})
    )

    attempt = {"plan": lambda: platform.plan("HVB:1.8.0"), "deploy": lambda: platform.deploy("HVB:1.8.0", FAST)}

    with pytest.raises(BadInput) as raised:
        attempt[call]()

    assert str(raised.value) == "not an image reference: 'HVB:1.8.0' (expected [registry/]name[:tag][@digest])"


@pytest.mark.parametrize(
    ("image", "resolved", "runs"),
    [
        ("hvb:1.8.0", {"tag": "1.8.0"}, True),
        ("hvb:1.8.0", {"tag": "1.7.0"}, False),
        ("hvb", {"tag": "latest"}, True),
        (f"hvb:1.8.0@{DIGEST}", {"tag": "1.7.0", "digest": DIGEST}, True),  # the digest decides
        (f"hvb@{DIGEST}", {"digest": "sha256:" + "cd" * 32}, False),
    ],
)
def test_a_fly_machine_runs_the_image_when_its_resolved_reference_agrees(
    image: str, resolved: dict[str, str], runs: bool
) -> None:
    machine = {"config": {"image": image}, "image_ref": {"repository": "hvb", **resolved}}
    assert runs_image(machine, image) is runs
