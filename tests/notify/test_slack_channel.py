"""The incident channel through the Slack stand-in: names, the call sequence, partial failures, rate limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opsctl.config import SlackNotify
from opsctl.net import jsonapi
from opsctl.net.jsonapi import ApiError
from opsctl.notify import slack_channel
from opsctl.values.redact import Redactor
from tests.notify.support import Sleeps
from tests.support.slack_api import BOT_TOKEN, SlackApi


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackApi]:
    monkeypatch.setenv("HVB_SLACK_BOT", BOT_TOKEN)
    with SlackApi().running() as api:
        assert isinstance(api, SlackApi)
        api.add_user("ana@example.com")
        yield api


def client(slack: SlackApi) -> jsonapi.JsonApi:
    settings = SlackNotify.model_validate({"bot_token_env": "HVB_SLACK_BOT", "api_url": slack.url})
    return slack_channel.slack_api(settings, Redactor())


@pytest.mark.parametrize(
    ("incident", "title", "name"),
    [
        ("INC-42", "Booking calls fail", "inc-42-booking-calls-fail"),
        ("INC-7", "DB: pool at 100% (prod) — again!", "inc-7-db-pool-at-100-prod-again"),
        ("INC-1", "???", "inc-1"),
        ("INC-3", "x" * 200, "inc-3-" + "x" * 74),
    ],
)
def test_channel_names_follow_slacks_rules(incident: str, title: str, name: str) -> None:
    assert slack_channel.channel_name(incident, title) == name
    assert len(name) <= 80


def test_open_creates_invites_posts_and_pins(slack: SlackApi) -> None:
    with client(slack) as api:
        made = slack_channel.open_channel(api, "inc-1-x", ["ana@example.com", "nobody@example.com"], "summary")
    assert made == slack_channel.Channel(
        "C000001",
        "inc-1-x",
        "https://slack.com/app_redirect?channel=C000001",
        ("ana@example.com",),
        True,
        ("Slack users.lookupByEmail: users_not_found (nobody@example.com)",),
    )
    assert all(r.headers["authorization"] == f"Bearer {BOT_TOKEN}" for r in slack.requests)
    assert slack.channel_named("inc-1-x")["members"] == ["U0001"]


def test_a_taken_name_is_an_error_and_a_429_waits(slack: SlackApi, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps = Sleeps()
    monkeypatch.setattr(jsonapi, "DEFAULT_POLICY", jsonapi.RetryPolicy(attempts=3, budget=8.0, sleep=sleeps))
    slack.fail_next(1, 429, None, retry_after="1", path="/conversations.create")
    with client(slack) as api:
        slack_channel.open_channel(api, "inc-1-x", [], "summary")
        with pytest.raises(ApiError) as caught:
            slack_channel.open_channel(api, "inc-1-x", [], "summary")
    assert sleeps == [1.0]
    assert str(caught.value) == "Slack conversations.create: name_taken"
