"""A Slack Web API stand-in on 127.0.0.1: the methods an incident channel needs.

Every method needs ``Authorization: Bearer <bot token>``; like Slack, errors are
HTTP 200 ``{"ok": false, "error": "..."}`` (``invalid_auth``, ``name_taken``,
``invalid_name_specials``, ``users_not_found``, ``channel_not_found``,
``message_not_found``, ``already_pinned``) and rate limits are 429 with
``Retry-After`` (see ``fail_next``). POST bodies must be JSON
(``Content-Type: application/json``), else ``invalid_arguments``.

- ``POST /conversations.create`` ``{name, is_private}`` -> ``{"ok": true, "channel": {id, name, ...}}``
- ``GET /users.lookupByEmail?email=`` -> ``{"ok": true, "user": {id, name, profile: {email}}}``
- ``POST /conversations.invite`` ``{channel, users: "U1,U2"}``
- ``POST /chat.postMessage`` ``{channel, text, blocks?}`` -> ``{"ok": true, "channel", "ts", "message"}``
- ``POST /pins.add`` ``{channel, timestamp}``

State: ``channels`` (id -> name, members, messages, pins); ``users`` (email -> id),
set with ``add_user(email)``.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from tests.support.api_server import Recorded, Reply, StandIn

BOT_TOKEN = "xoxb-0000-1111-fAkEbOtToKeN2222"
_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


class SlackApi(StandIn):
    name = "Slack"

    def __init__(self, token: str = BOT_TOKEN) -> None:
        super().__init__()
        self.token = token
        self.users: dict[str, str] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)

    def add_user(self, email: str) -> str:
        user_id = f"U{len(self.users) + 1:04d}"
        self.users[email] = user_id
        return user_id

    def channel_named(self, name: str) -> dict[str, Any]:
        return next(c for c in self.channels.values() if c["name"] == name)

    def answer(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self._error("invalid_auth")
        method = request.path.lstrip("/")
        if request.method == "GET" and method == "users.lookupByEmail":
            email = (request.query.get("email") or [""])[0]
            if email not in self.users:
                return self._error("users_not_found")
            user = {"id": self.users[email], "name": email.split("@")[0], "profile": {"email": email}}
            return Reply(200, {"ok": True, "user": user})
        if request.method != "POST" or not isinstance(request.body, dict):
            return self._error("invalid_arguments")
        handler = {
            "conversations.create": self._create,
            "conversations.invite": self._invite,
            "chat.postMessage": self._post,
            "pins.add": self._pin,
        }.get(method)
        return handler(request.body) if handler else self._error("unknown_method")

    @staticmethod
    def _error(error: str) -> Reply:
        return Reply(200, {"ok": False, "error": error})

    def _create(self, body: dict[str, Any]) -> Reply:
        name = str(body.get("name") or "")
        if not _NAME.fullmatch(name):
            return self._error("invalid_name_specials")
        if any(c["name"] == name for c in self.channels.values()):
            return self._error("name_taken")
        channel_id = f"C{next(self._ids):06d}"
        self.channels[channel_id] = {"id": channel_id, "name": name, "members": [], "messages": [], "pins": []}
        return Reply(200, {"ok": True, "channel": {"id": channel_id, "name": name, "is_channel": True}})

    def _invite(self, body: dict[str, Any]) -> Reply:
        channel = self.channels.get(str(body.get("channel")))
        if channel is None:
            return self._error("channel_not_found")
        users = [u for u in str(body.get("users") or "").split(",") if u]
        if not users or any(u not in self.users.values() for u in users):
            return self._error("user_not_found")
        channel["members"].extend(u for u in users if u not in channel["members"])
        return Reply(200, {"ok": True, "channel": {"id": channel["id"], "name": channel["name"]}})

    def _post(self, body: dict[str, Any]) -> Reply:
        channel = self.channels.get(str(body.get("channel")))
        if channel is None:
            return self._error("channel_not_found")
        if not body.get("text") and not body.get("blocks"):
            return self._error("no_text")
        ts = f"1764237600.{next(self._ts):06d}"
        message = {"ts": ts, "text": body.get("text"), "blocks": body.get("blocks")}
        channel["messages"].append(message)
        return Reply(200, {"ok": True, "channel": channel["id"], "ts": ts, "message": message})

    def _pin(self, body: dict[str, Any]) -> Reply:
        channel = self.channels.get(str(body.get("channel")))
        if channel is None:
            return self._error("channel_not_found")
        if not any(m["ts"] == body.get("timestamp") for m in channel["messages"]):
            return self._error("message_not_found")
        if body["timestamp"] in channel["pins"]:
            return self._error("already_pinned")
        channel["pins"].append(body["timestamp"])
        return Reply(200, {"ok": True})
