"""A PagerDuty stand-in on 127.0.0.1: the Events API v2 and the REST API parts opsctl uses.

Events API v2 (no auth header; the ``routing_key`` in the body is the credential):
``POST /v2/enqueue`` (trigger | acknowledge | resolve; 202 ``{"status": "success",
"message": "Event processed", "dedup_key": ...}``; 400 ``{"status": "invalid event",
"message": "Event object is invalid", "errors": [...]}``) and ``POST /v2/change/enqueue``.
Alerts are kept by ``dedup_key`` as PagerDuty incidents (status, urgency from the
severity: critical/error high, warning/info low, escalation level 1).

REST API (``Authorization: Token token=<token>``, else 401 ``{"error": {"message":
"Unauthorized", "code": 2006}}``): ``GET /oncalls`` (``escalation_policy_ids[]``,
``since``/``until`` overlap, ``include[]=users`` for full users with email, else
user references; ``limit``/``offset``/``more``), ``GET /incidents``
(``incident_key``, ``statuses[]``) and ``PUT /incidents/{id}`` (needs ``From``;
``escalation_level`` within the policy's ``levels``, else 400 ``Invalid Input Provided``).

Control: ``add_oncall(level, name, email, start=, end=, policy=POLICY)``, ``levels``,
plus :class:`~tests.support.api_server.StandIn`'s ``fail_next`` and ``requests``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.support.api_server import Recorded, Reply, StandIn

ROUTING_KEY = "R0uTiNgKeY-pd-events-0123456789ab"
TOKEN = "pd-rest-t0ken-u+7e3f9a1c2b4d"
POLICY = "PHVB001"
_SEVERITIES = ("critical", "error", "warning", "info")


@dataclass
class _Oncall:
    policy: str
    level: int
    name: str
    email: str
    user_id: str
    start: str | None
    end: str | None


@dataclass
class PdIncident:
    id: str
    dedup_key: str
    status: str
    urgency: str
    title: str
    escalation_level: int = 1
    events: list[dict[str, Any]] = field(default_factory=list)


def _ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


class PagerDutyApi(StandIn):
    name = "PagerDuty"

    def __init__(self, routing_key: str = ROUTING_KEY, token: str = TOKEN, levels: int = 3) -> None:
        super().__init__()
        self.routing_key = routing_key
        self.token = token
        self.levels = levels
        self.oncalls: list[_Oncall] = []
        self.incidents: dict[str, PdIncident] = {}
        self._ids = itertools.count(1)

    def add_oncall(
        self, level: int, name: str, email: str, *, start: str | None, end: str | None, policy: str = POLICY
    ) -> None:
        user_id = f"PU{abs(hash(email)) % 100000:05d}"
        self.oncalls.append(_Oncall(policy, level, name, email, user_id, start, end))

    def events(self) -> list[Any]:
        """The bodies POSTed to /v2/enqueue, oldest first."""
        return [r.body for r in self.calls("POST", "/v2/enqueue")]

    def answer(self, request: Recorded) -> Reply:
        if request.path == "/v2/enqueue" and request.method == "POST":
            return self._enqueue(request.body)
        if request.path == "/v2/change/enqueue" and request.method == "POST":
            return Reply(202, {"status": "success", "message": "Change event processed"})
        if request.headers.get("authorization") != f"Token token={self.token}":
            return Reply(401, {"error": {"message": "Unauthorized", "code": 2006}})
        if request.path == "/oncalls" and request.method == "GET":
            return self._oncalls(request.query)
        if request.path == "/incidents" and request.method == "GET":
            return self._list_incidents(request.query)
        if request.path.startswith("/incidents/") and request.method == "PUT":
            return self._update_incident(request)
        return Reply(404, {"error": {"message": "Not Found", "code": 2100}})

    # -- Events API v2 -------------------------------------------------------------------------

    def _enqueue(self, body: Any) -> Reply:
        def invalid(*errors: str) -> Reply:
            return Reply(400, {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)})

        if not isinstance(body, dict):
            return invalid("'body' is not a JSON object")
        if body.get("routing_key") != self.routing_key:
            return invalid("Invalid routing key")
        action = body.get("event_action")
        key = body.get("dedup_key")
        if action not in ("trigger", "acknowledge", "resolve"):
            return invalid("'event_action' is invalid")
        if action == "trigger":
            payload = body.get("payload") or {}
            missing = [f"'payload.{k}' is missing" for k in ("summary", "source", "severity") if not payload.get(k)]
            if missing:
                return invalid(*missing)
            if payload["severity"] not in _SEVERITIES:
                return invalid("'payload.severity' is invalid (must be one of critical, error, warning, info)")
            key = key or f"auto-{next(self._ids)}"
            if key not in self.incidents or self.incidents[key].status == "resolved":
                urgency = "high" if payload["severity"] in ("critical", "error") else "low"
                self.incidents[key] = PdIncident(
                    f"Q{next(self._ids):05d}", key, "triggered", urgency, payload["summary"]
                )
        elif not key:
            return invalid("'dedup_key' is required for acknowledge and resolve events")
        elif key in self.incidents and self.incidents[key].status != "resolved":
            self.incidents[key].status = "acknowledged" if action == "acknowledge" else "resolved"
        if key in self.incidents:
            self.incidents[key].events.append(body)
        return Reply(202, {"status": "success", "message": "Event processed", "dedup_key": key})

    # -- REST API --------------------------------------------------------------------------------

    def _oncalls(self, query: dict[str, list[str]]) -> Reply:
        policies = query.get("escalation_policy_ids[]")
        since, until = _ts((query.get("since") or [None])[0]), _ts((query.get("until") or [None])[0])
        full = "users" in query.get("include[]", [])
        chosen = []
        for entry in self.oncalls:
            if policies and entry.policy not in policies:
                continue
            start, end = _ts(entry.start), _ts(entry.end)
            if since is not None and end is not None and end <= since:
                continue
            if until is not None and start is not None and start > until:
                continue
            chosen.append(entry)
        limit = int((query.get("limit") or ["25"])[0])
        offset = int((query.get("offset") or ["0"])[0])
        page = chosen[offset : offset + limit]
        return Reply(
            200,
            {
                "oncalls": [self._oncall_json(e, full) for e in page],
                "limit": limit,
                "offset": offset,
                "more": offset + limit < len(chosen),
                "total": None,
            },
        )

    @staticmethod
    def _oncall_json(entry: _Oncall, full: bool) -> dict[str, Any]:
        reference = {"id": entry.user_id, "type": "user_reference", "summary": entry.name}
        user = {"id": entry.user_id, "type": "user", "name": entry.name, "email": entry.email} if full else reference
        return {
            "escalation_policy": {"id": entry.policy, "type": "escalation_policy_reference"},
            "escalation_level": entry.level,
            "schedule": None,
            "user": user,
            "start": entry.start,
            "end": entry.end,
        }

    def _list_incidents(self, query: dict[str, list[str]]) -> Reply:
        key = (query.get("incident_key") or [None])[0]
        statuses = query.get("statuses[]")
        found = [
            i
            for i in self.incidents.values()
            if (key is None or i.dedup_key == key) and (not statuses or i.status in statuses)
        ]
        body = [
            {"id": i.id, "type": "incident", "incident_key": i.dedup_key, "status": i.status, "urgency": i.urgency}
            for i in found
        ]
        return Reply(200, {"incidents": body, "limit": 25, "offset": 0, "more": False, "total": None})

    def _update_incident(self, request: Recorded) -> Reply:
        incident = next((i for i in self.incidents.values() if request.path == f"/incidents/{i.id}"), None)
        if incident is None:
            return Reply(404, {"error": {"message": "Not Found", "code": 2100}})
        if not request.headers.get("from"):
            message = 'You must specify a user\'s email address in the "From" header to perform this action'
            return Reply(400, {"error": {"message": message, "code": 2001}})
        body = (request.body or {}).get("incident") if isinstance(request.body, dict) else None
        level = body.get("escalation_level") if isinstance(body, dict) else None
        if not isinstance(level, int) or not 1 <= level <= self.levels:
            error = {"message": "Invalid Input Provided", "code": 2001, "errors": ["Escalation Level not found"]}
            return Reply(400, {"error": error})
        incident.escalation_level = level
        return Reply(200, {"incident": {"id": incident.id, "type": "incident", "escalation_level": level}})
