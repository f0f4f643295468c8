"""The image a run was asked for reaches the platform's plan and deploy calls as a parsed ImageRef."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.actions.platform import DeployParams, PlanParams, platform_deploy, platform_plan
from opsctl.engine.request import RunRequest
from opsctl.errors import BadInput
from opsctl.platforms.base import DeployPlan, Release, RolloutOptions, RolloutResult, RolloutStatus
from opsctl.values.imageref import ImageRef
from tests.health.helpers import FakePlatform
from tests.support.context import make_ctx


class RecordingPlatform(FakePlatform):
    """Records what the core hands the driver."""

    def __init__(self) -> None:
        super().__init__("hvb:1.7.0")
        self.received: list[object] = []

    def plan(self, image: ImageRef | str) -> DeployPlan:
        self.received.append(image)
        return DeployPlan(current=self.release, image=str(image), summary=f"hvb-staging:7 -> {image}")

    def deploy(self, image: ImageRef | str, options: RolloutOptions) -> RolloutResult:
        self.received.append(image)
        return RolloutResult(RolloutStatus.STABLE, Release(id="hvb-staging:8", image=str(image)), "stable")


def test_plan_and_deploy_receive_the_requested_image_as_an_image_ref(tmp_path: Path) -> None:
    platform = RecordingPlatform()
    ctx = make_ctx(tmp_path, request=RunRequest.build(image="ghcr.io/team/hvb:1.8.0"))
    ctx.platform_factory = lambda: platform

    planned = platform_plan(ctx, PlanParams())
    deployed = platform_deploy(ctx, DeployParams())

    assert planned.detail["image"] == "ghcr.io/team/hvb:1.8.0"
    assert deployed.summary == "ghcr.io/team/hvb:1.8.0 is live as hvb-staging:8 (stable within 15m00s)"
    assert [type(image) for image in platform.received] == [ImageRef, ImageRef]
    assert platform.received[0] == ImageRef.parse("ghcr.io/team/hvb:1.8.0")
    assert ctx.state.attempted == {
        "id": "hvb-staging:8",
        "image": "ghcr.io/team/hvb:1.8.0",
        "tag": "1.8.0",
        "created_at": None,
    }


def test_a_with_image_is_parsed_like_the_command_line_before_the_driver_sees_it(tmp_path: Path) -> None:
    platform = RecordingPlatform()
    ctx = make_ctx(tmp_path)
    ctx.platform_factory = lambda: platform

    with pytest.raises(BadInput, match=r"'hvb:1\.8\.0é' is not a valid image reference"):
        platform_deploy(ctx, DeployParams(image="hvb:1.8.0é"))

    assert platform.received == []
