"""An incident's own Slack channel through the Web API: create it, invite the on-call, pin the summary.

``conversations.create`` makes ``inc-<n>-<slug>`` (Slack's rules: lower case,
letters, digits, ``-`` and ``_``, at most 80 characters);
``users.lookupByEmail`` finds the on-call's Slack users and
``conversations.invite`` adds them; ``chat.postMessage`` posts the summary and
``pins.add`` pins it. Requests carry ``Authorization: Bearer <bot token>`` (the
token from the env var named by ``notify.slack.bot_token_env``). Slack answers
HTTP 200 with ``{"ok": false, "error": "..."}`` for errors, and 429 with
``Retry-After`` when rate limited.

Only creating the channel must succeed; an invitation or a pin that fails is
a problem reported with the result, not a failure.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput
from opsctl.net.jsonapi import ApiError, JsonApi

if TYPE_CHECKING:
    from opsctl.config import SlackNotify
    from opsctl.values.redact import Redactor

MAX_NAME = 80
CHANNEL_URL = "https://slack.com/app_redirect?channel={id}"


@dataclass(frozen=True)
class Channel:
    """The channel made for an incident, who was invited, and what did not work."""

    id: str
    name: str
    url: str
    invited: tuple[str, ...] = ()
    pinned: bool = False
    problems: tuple[str, ...] = ()


def channel_name(incident_id: str, title: str) -> str:
    """``inc-42-booking-calls-fail``: the id, then the title made a valid channel name."""
    prefix = incident_id.lower()
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"{prefix}-{slug}"[:MAX_NAME].rstrip("-") if slug else prefix


def slack_api(settings: SlackNotify, redactor: Redactor) -> JsonApi:
    """A Web API client with the bot token; BadInput when it is not configured or not set."""
    if settings.bot_token_env is None:
        raise BadInput(
            "an incident channel needs a Slack bot token: add notify: {slack: {bot_token_env: SLACK_BOT_TOKEN}}"
        )
    token = os.environ.get(settings.bot_token_env, "").strip()
    if not token:
        raise BadInput(f"{settings.bot_token_env} is not set: export the Slack bot token (notify.slack.bot_token_env)")
    redactor.add(token)
    return JsonApi("Slack", settings.api_url, {"Authorization": f"Bearer {token}"}, scrub=redactor.text)


def web(api: JsonApi, method: str, payload: dict[str, Any] | None = None, **params: str) -> dict[str, Any]:
    """One Web API method: POST with a JSON body, or GET with ``params``; ApiError for ``ok: false``."""
    if params:
        answer = api.call("GET", f"/{method}", params=params)
    else:
        answer = api.call(
            "POST", f"/{method}", json=payload or {}, headers={"Content-Type": "application/json; charset=utf-8"}
        )
    body = answer.body if isinstance(answer.body, dict) else {}
    if not body.get("ok"):
        raise ApiError(f"Slack {method}: {body.get('error') or 'no ok in the answer'}", answer.status)
    return body


def open_channel(api: JsonApi, name: str, emails: list[str], text: str, blocks: list[Any] | None = None) -> Channel:
    """Create ``name``, invite ``emails``, post and pin the summary; ApiError only when the channel is not made."""
    made = web(api, "conversations.create", {"name": name, "is_private": False})
    found = made.get("channel")
    channel: dict[str, Any] = found if isinstance(found, dict) else {}
    channel_id = str(channel.get("id") or "")
    if not channel_id:
        raise ApiError("Slack conversations.create answered without a channel id")
    invited, problems = invite(api, channel_id, emails)
    pinned = False
    try:
        ts = post(api, channel_id, text, blocks)
        web(api, "pins.add", {"channel": channel_id, "timestamp": ts})
        pinned = True
    except ApiError as exc:
        problems.append(str(exc))
    shown = str(channel.get("name") or name)
    return Channel(channel_id, shown, CHANNEL_URL.format(id=channel_id), tuple(invited), pinned, tuple(problems))


def invite(api: JsonApi, channel_id: str, emails: list[str]) -> tuple[list[str], list[str]]:
    """Invite the Slack users with these emails: (who was invited, problems)."""
    users: dict[str, str] = {}
    problems: list[str] = []
    for email in dict.fromkeys(emails):
        try:
            found = web(api, "users.lookupByEmail", email=email)
        except ApiError as exc:
            problems.append(f"{exc} ({email})")
            continue
        user = found.get("user")
        user_id = user.get("id") if isinstance(user, dict) else None
        if not user_id:
            problems.append(f"Slack users.lookupByEmail answered without a user id ({email})")
            continue
        users[email] = str(user_id)
    if not users:
        return [], problems
    try:
        web(api, "conversations.invite", {"channel": channel_id, "users": ",".join(users.values())})
    except ApiError as exc:
        problems.append(str(exc))
        return [], problems
    return list(users), problems


def post(api: JsonApi, channel_id: str, text: str, blocks: list[Any] | None = None) -> str:
    """Post ``text`` (and ``blocks``) to the channel; the message's ``ts``."""
    payload: dict[str, Any] = {"channel": channel_id, "text": text}
    if blocks:
        payload["blocks"] = blocks
    return str(web(api, "chat.postMessage", payload).get("ts") or "")
