"""``opsctl init --ecs``'s discovery against moto: region, containers, target group path, load balancer DNS."""

from __future__ import annotations

import pytest

from opsctl.errors import BadInput
from opsctl.setup.ecs import discover_ecs
from opsctl.setup.targets import ecs_target
from tests.setup.support import create_balanced_service
from tests.support import moto_server as aws_support
from tests.support.moto_server import MotoServer, create_ecs_service

moto_server = aws_support.moto_server
aws = aws_support.aws


def test_a_service_behind_an_alb_gives_region_container_and_health_url(aws: MotoServer) -> None:
    balanced = create_balanced_service(aws)
    found = discover_ecs(ecs_target("hvb-staging/hotel-voice-bot"))
    assert found.platform == {
        "kind": "ecs",
        "region": "eu-west-1",
        "cluster": "hvb-staging",
        "service": "hotel-voice-bot",
        "container": "bot",
    }
    assert found.health == {"base_url": f"http://{balanced.dns}"}
    assert found.image == "hvb:1.7.0"
    assert found.notes == (
        "ECS service hvb-staging/hotel-voice-bot in eu-west-1; task definition hvb:1 has: bot, envoy",
        "container: bot (the one behind the load balancer)",
        "target group hvb-staging-tg checks /health",
        f"load balancer hvb-staging-lb (internet-facing) at http://{balanced.dns}",
    )
    lb_id = balanced.load_balancer_arn.partition(":loadbalancer/")[2]
    tg_id = balanced.target_group_arn.rpartition(":")[2]
    assert found.suggestions[1] == f"cloudwatch: {{load_balancer: {lb_id}, target_group: {tg_id}}}"


def test_an_https_listener_and_another_check_path_are_kept(aws: MotoServer) -> None:
    balanced = create_balanced_service(aws, health_path="/healthz", https=True)
    found = discover_ecs(ecs_target("hvb-staging/hotel-voice-bot"))
    assert found.health == {"base_url": f"https://{balanced.dns}", "paths": {"health": "/healthz"}}


def test_without_a_load_balancer_health_is_left_to_the_user(aws: MotoServer) -> None:
    create_ecs_service(aws)
    found = discover_ecs(ecs_target("hvb-staging/hotel-voice-bot"))
    assert found.health is None
    assert found.notes[-1] == "no load balancer is attached: set health.base_url to where the bot answers"
    assert found.notes[1] == "container: bot (the only one)"


def test_the_only_essential_container_is_chosen_over_helpers(aws: MotoServer) -> None:
    helper = {"name": "log-router", "image": "fluent-bit:2", "memory": 64, "essential": False}
    create_ecs_service(aws, sidecars=[helper])
    found = discover_ecs(ecs_target("hvb-staging/hotel-voice-bot"))
    assert found.platform["container"] == "bot"
    assert found.notes[1] == "container: bot (the only essential one)"


def test_a_missing_service_is_one_line(aws: MotoServer) -> None:
    create_ecs_service(aws)
    with pytest.raises(BadInput) as caught:
        discover_ecs(ecs_target("hvb-staging/nope"))
    assert str(caught.value) == (
        "ECS service nope not found in cluster hvb-staging (eu-west-1); check --ecs and --region"
    )


def test_a_missing_cluster_is_one_line(aws: MotoServer) -> None:
    with pytest.raises(BadInput) as caught:
        discover_ecs(ecs_target("ghost/hotel-voice-bot"))
    assert str(caught.value) == (
        "reading ECS service ghost/hotel-voice-bot: AWS refused: ClusterNotFoundException: Cluster not found."
    )


def test_no_region_anywhere_says_how_to_give_one(aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(BadInput) as caught:
        discover_ecs(ecs_target("hvb-staging/hotel-voice-bot"))
    assert str(caught.value) == (
        "reading ECS service hvb-staging/hotel-voice-bot: no AWS region: pass --region, "
        "or set AWS_REGION / AWS_DEFAULT_REGION"
    )
