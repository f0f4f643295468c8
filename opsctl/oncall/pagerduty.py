"""PagerDuty's REST API (``api.pagerduty.com``): who is on call, and escalating an incident.

Requests carry ``Authorization: Token token=<token>`` (the token from the env
var named by ``oncall.pagerduty.token_env``, registered with the redactor
first) and ``Accept: application/vnd.pagerduty+json;version=2``. Errors come
as ``{"error": {"message", "code", "errors": [...]}}``; 429s are retried,
honouring ``Retry-After`` (see :mod:`opsctl.net.jsonapi`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from opsctl.audit.line import format_ts, parse_ts
from opsctl.errors import BadInput
from opsctl.net.jsonapi import ApiError, JsonApi
from opsctl.oncall.model import Person

if TYPE_CHECKING:
    from opsctl.config import PagerDutyOncall
    from opsctl.values.redact import Redactor

ACCEPT = "application/vnd.pagerduty+json;version=2"
PAGE_LIMIT = 100
MAX_PAGES = 5  # 500 on-call entries for one policy at one instant: far more than any policy has


@dataclass(frozen=True)
class Shift:
    """One on-call entry: a person at an escalation level from ``start`` until ``end`` (None: open-ended)."""

    level: int
    person: Person
    start: datetime | None
    end: datetime | None


def rest_api(settings: PagerDutyOncall, redactor: Redactor) -> JsonApi:
    """A client for the REST API; BadInput naming the env var when the token is not set."""
    token = os.environ.get(settings.token_env, "").strip()
    if not token:
        raise BadInput(
            f"{settings.token_env} is not set: export a PagerDuty REST API token (oncall.pagerduty.token_env)"
        )
    redactor.add(token)
    headers = {"Authorization": f"Token token={token}", "Accept": ACCEPT}
    return JsonApi("PagerDuty", settings.api_url, headers, scrub=redactor.text, explain=explain)


def explain(body: Any) -> str | None:
    """PagerDuty's error shape as one line: ``Invalid Input Provided (2001): escalation_level is invalid``."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    text = str(error.get("message") or "")
    if error.get("code") is not None:
        text += f" ({error['code']})"
    details = [str(e) for e in error.get("errors") or [] if e]
    return f"{text}: {'; '.join(details)}" if details else text


def shifts(api: JsonApi, policy: str, at: datetime) -> list[Shift]:
    """The on-call entries of escalation ``policy`` that cover ``at``, every level, following pagination."""
    stamp = format_ts(at)
    found: list[Shift] = []
    offset = 0
    for _ in range(MAX_PAGES):
        params = [
            ("escalation_policy_ids[]", policy),
            ("since", stamp),
            ("until", stamp),
            ("include[]", "users"),
            ("limit", str(PAGE_LIMIT)),
            ("offset", str(offset)),
        ]
        body = api.call("GET", "/oncalls", params=params).body
        entries = body.get("oncalls") if isinstance(body, dict) else None
        if not isinstance(entries, list):
            raise ApiError("PagerDuty answered GET /oncalls without an oncalls list")
        found.extend(shift for shift in (_shift(e) for e in entries) if shift and _covers(shift, at))
        if not body.get("more"):
            break
        offset += len(entries) or PAGE_LIMIT
    return found


def _shift(entry: Any) -> Shift | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("user"), dict):
        return None
    user = entry["user"]
    name = str(user.get("name") or user.get("summary") or user.get("email") or user.get("id") or "?")
    email = user.get("email")
    # An entry that cannot be read (a level of 1e400, a start of "soon") is left out, not a crash.
    try:
        level = int(entry.get("escalation_level") or 0)
        start = _moment(entry.get("start"))
        end = _moment(entry.get("end"))
    except (TypeError, ValueError, OverflowError):
        return None
    return Shift(level, Person(name, str(email) if email else None), start, end)


def _moment(value: Any) -> datetime | None:
    """A timestamp of the API (a time without a zone is UTC, so that it compares with ``at``)."""
    if not value:
        return None
    moment = parse_ts(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _covers(shift: Shift, at: datetime) -> bool:
    return (shift.start is None or shift.start <= at) and (shift.end is None or at < shift.end)


def escalate(api: JsonApi, dedup_key: str, level: int, from_email: str) -> str:
    """Move PagerDuty's open incident with ``dedup_key`` to escalation ``level``; its id.

    The incident is found by its incident key (the Events API ``dedup_key``),
    then updated with ``PUT /incidents/{id}``; PagerDuty requires a ``From``
    header naming a user of the account.
    """
    params = [("incident_key", dedup_key), ("statuses[]", "triggered"), ("statuses[]", "acknowledged")]
    body = api.call("GET", "/incidents", params=params).body
    incidents = body.get("incidents") if isinstance(body, dict) else None
    if (
        not isinstance(incidents, list)
        or not incidents
        or not isinstance(incidents[0], dict)
        or not incidents[0].get("id")
    ):
        raise ApiError(f"PagerDuty has no open incident with key {dedup_key}")
    incident_id = str(incidents[0]["id"])
    update = {"incident": {"type": "incident_reference", "escalation_level": level}}
    api.call("PUT", f"/incidents/{incident_id}", json=update, headers={"From": from_email})
    return incident_id
