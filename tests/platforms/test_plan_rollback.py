"""``Platform.plan_rollback``: what a rollback would put back, read only (ECS on moto, Fly on the fake API)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opsctl.config import EcsPlatformConfig
from opsctl.platforms.base import RolloutOptions
from opsctl.platforms.ecs import EcsPlatform
from opsctl.platforms.fly import FlyPlatform
from tests.support import moto_server as aws_support
from tests.support.fly_api import DEFAULT_IMAGE as FLY_OLD
from tests.support.fly_api import FakeFlyApi, fly_api_fixture
from tests.support.moto_server import EcsService

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service
fly_api = fly_api_fixture

FLY_NEW = "registry.fly.io/hvb:1.8.0"


def test_ecs_shows_every_field_the_exact_revision_puts_back_with_values_masked(ecs_service: EcsService) -> None:
    client = ecs_service.client()
    td = client.describe_task_definition(taskDefinition="hvb:1")["taskDefinition"]
    changed = [
        {**c, "image": "hvb:1.8.0", "memory": 512, "environment": [{"name": "LOG_LEVEL", "value": "sk-secret"}]}
        for c in td["containerDefinitions"]
    ]
    tags = [{"key": "team", "value": "hvb"}]  # as the fixture's revision 1 has them
    arn = client.register_task_definition(family="hvb", containerDefinitions=changed, tags=tags)["taskDefinition"]
    client.update_service(
        cluster=ecs_service.cluster, service=ecs_service.service, taskDefinition=arn["taskDefinitionArn"]
    )
    platform = EcsPlatform.from_config(EcsPlatformConfig.model_validate(ecs_service.platform_config()))
    try:
        target = platform.find_release("hvb:1")
        assert target is not None
        before = client.list_task_definitions()["taskDefinitionArns"]

        plan = platform.plan_rollback(target)

        assert client.list_task_definitions()["taskDefinitionArns"] == before  # reads only
    finally:
        platform.close()
    assert plan.current is not None
    assert (plan.current.id, plan.current.image) == ("hvb:2", "hvb:1.8.0")
    assert (plan.image, plan.summary) == ("hvb:1.7.0", "hvb:2 (hvb:1.8.0) -> hvb:1 (hvb:1.7.0)")
    changes = [line for line in plan.diff if line[:1] in "+-"]
    assert changes == [
        "--- hvb:2",
        "+++ hvb:1",
        '-      "image": "hvb:1.8.0",',
        '-      "memory": 512,',
        '+      "image": "hvb:1.7.0",',
        '+      "memory": 256,',
    ]
    assert not any("sk-secret" in line for line in plan.diff)  # environment values are masked on both sides


@pytest.fixture
def fly(fly_api: FakeFlyApi) -> Iterator[FlyPlatform]:
    platform = FlyPlatform(fly_api.platform_config(), environ={"FLY_API_TOKEN": fly_api.token}, sleep=lambda _s: None)
    try:
        yield platform
    finally:
        platform.close()


def test_fly_plans_a_rollback_as_the_deploy_of_the_old_image(fly: FlyPlatform, fly_api: FakeFlyApi) -> None:
    assert fly.deploy(FLY_NEW, RolloutOptions(poll_interval=0.02, timeout=10.0)).ok
    target = fly.find_release(FLY_OLD)
    assert target is not None

    plan = fly.plan_rollback(target)

    assert plan == fly.plan(FLY_OLD)
    assert plan.summary == f"fly app hvb: m1, m2, m3: {FLY_NEW} -> {FLY_OLD} (rolling, 1 at a time)"
    assert fly_api.images() == {"m1": FLY_NEW, "m2": FLY_NEW, "m3": FLY_NEW}  # reads only
