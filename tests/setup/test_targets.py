"""Parsing what ``opsctl init`` is asked to look at, and the environment names it suggests."""

from __future__ import annotations

import pytest

from opsctl.errors import BadInput
from opsctl.setup.targets import Target, ecs_target, env_names, fly_target, guess_env, kube_target, parse_targets


def test_targets_are_split_from_the_right_so_arns_keep_their_slashes() -> None:
    assert ecs_target("arn:aws:ecs:eu-west-1:123:cluster/hvb/bot") == Target(
        "ecs", "arn:aws:ecs:eu-west-1:123:cluster/hvb/bot", ("arn:aws:ecs:eu-west-1:123:cluster/hvb", "bot")
    )
    assert kube_target("arn:aws:eks:eu-west-1:1:cluster/hvb/hvb/hotel-voice-bot").parts == (
        "arn:aws:eks:eu-west-1:1:cluster/hvb",
        "hvb",
        "hotel-voice-bot",
    )
    assert fly_target("hvb-staging").parts == ("hvb-staging",)


@pytest.mark.parametrize(
    ("make", "text", "message"),
    [
        (ecs_target, "hvb", "--ecs hvb: give CLUSTER/SERVICE, e.g. --ecs hvb-staging/hotel-voice-bot"),
        (ecs_target, "hvb/", "--ecs hvb/: give CLUSTER/SERVICE, e.g. --ecs hvb-staging/hotel-voice-bot"),
        (
            kube_target,
            "ctx/hvb",
            "--kubernetes ctx/hvb: give CONTEXT/NAMESPACE/DEPLOYMENT, "
            "e.g. --kubernetes hvb-staging/hvb/hotel-voice-bot",
        ),
        (
            fly_target,
            "Hvb App",
            "--fly Hvb App: give the Fly app's name (lower-case letters, digits and -), e.g. --fly hvb",
        ),
    ],
)
def test_a_malformed_target_is_one_clear_line(make: object, text: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        make(text)  # type: ignore[operator]
    assert str(caught.value) == message


def test_no_target_at_all_says_what_to_give() -> None:
    with pytest.raises(BadInput) as caught:
        parse_targets([], [], [])
    assert str(caught.value) == (
        "say what to look at: --ecs CLUSTER/SERVICE, --fly APP or --kubernetes CONTEXT/NAMESPACE/DEPLOYMENT"
    )


def test_targets_pair_with_env_names_in_the_order_ecs_fly_kubernetes() -> None:
    targets = parse_targets(["c/s"], ["app"], ["ctx/ns/dep"])
    assert [t.kind for t in targets] == ["ecs", "fly", "kubernetes"]


@pytest.mark.parametrize(
    ("hint", "env"),
    [
        ("hvb-staging hotel-voice-bot", "staging"),
        ("hvb-prod", "production"),
        ("bot_production", "production"),
        ("hvb-dev", "development"),
        ("hvb-qa", "test"),
        ("hotel-voice-bot", None),
        ("productive-bot", None),  # a word, not a part of one
    ],
)
def test_the_environment_is_guessed_from_the_resources_names(hint: str, env: str | None) -> None:
    assert guess_env(hint) == env


def test_names_without_a_hint_get_staging_then_production_and_never_twice() -> None:
    assert env_names([], ["bot", "bot2"]) == ["staging", "production"]
    assert env_names([], ["hvb-staging", "hvb-stage-2"]) == ["staging", "production"]
    assert env_names([], ["hvb-prod", "hvb"]) == ["production", "staging"]


def test_given_names_win_and_must_match_the_targets() -> None:
    assert env_names(["live"], ["hvb-staging"]) == ["live"]
    with pytest.raises(BadInput) as caught:
        env_names(["staging"], ["a", "b"])
    assert str(caught.value) == (
        "1 --env name(s) for 2 target(s): give one --env per --ecs/--fly/--kubernetes (paired in that order), "
        "or none to have them guessed"
    )
    with pytest.raises(BadInput) as caught:
        env_names(["staging", "staging"], ["a", "b"])
    assert str(caught.value) == "--env names must differ: staging, staging"
    with pytest.raises(BadInput) as caught:
        env_names(["bad name"], ["a"])
    assert str(caught.value) == (
        "--env bad name: an environment name is letters, digits, '_', '.' and '-' (at most 64)"
    )
