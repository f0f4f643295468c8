"""PagerDuty's REST API through the stand-in: GET /oncalls (auth, filters, pages), errors, escalation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from opsctl.config import PagerDutyOncall
from opsctl.net import jsonapi
from opsctl.net.jsonapi import ApiError
from opsctl.oncall import pagerduty
from opsctl.oncall.model import Person
from opsctl.values.redact import Redactor
from tests.notify.support import Sleeps
from tests.support.pagerduty_api import POLICY, TOKEN, PagerDutyApi

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def pd() -> Iterator[PagerDutyApi]:
    api = PagerDutyApi()
    api.add_oncall(1, "Ana Lima", "ana@example.com", start="2026-11-30T08:00:00Z", end="2026-12-07T08:00:00Z")
    api.add_oncall(2, "Ben Ode", "ben@example.com", start="2026-11-30T08:00:00Z", end="2026-12-07T08:00:00Z")
    api.add_oncall(1, "Chris Park", "chris@example.com", start="2026-12-07T08:00:00Z", end="2026-12-14T08:00:00Z")
    api.add_oncall(1, "Dee Other", "dee@example.com", start=None, end=None, policy="POTHER1")
    with api.running():
        yield api


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    recorded = Sleeps()
    policy = jsonapi.RetryPolicy(attempts=3, backoff=0.5, max_delay=2.0, budget=8.0, sleep=recorded)
    monkeypatch.setattr(jsonapi, "DEFAULT_POLICY", policy)
    return recorded


def settings(pd: PagerDutyApi) -> PagerDutyOncall:
    return PagerDutyOncall.model_validate({"token_env": "HVB_PD_TOKEN", "escalation_policy": POLICY, "api_url": pd.url})


def test_oncalls_of_the_policy_at_a_moment(pd: PagerDutyApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVB_PD_TOKEN", TOKEN)
    with pagerduty.rest_api(settings(pd), Redactor()) as api:
        found = pagerduty.shifts(api, POLICY, AT)
    assert [(s.level, s.person) for s in found] == [
        (1, Person("Ana Lima", "ana@example.com")),
        (2, Person("Ben Ode", "ben@example.com")),
    ]
    (request,) = pd.calls("GET", "/oncalls")
    assert request.headers["authorization"] == f"Token token={TOKEN}"
    assert request.headers["accept"] == "application/vnd.pagerduty+json;version=2"
    assert request.query == {
        "escalation_policy_ids[]": [POLICY],
        "since": ["2026-12-01T10:00:00.000Z"],
        "until": ["2026-12-01T10:00:00.000Z"],
        "include[]": ["users"],
        "limit": ["100"],
        "offset": ["0"],
    }


def test_pages_are_followed(pd: PagerDutyApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVB_PD_TOKEN", TOKEN)
    monkeypatch.setattr(pagerduty, "PAGE_LIMIT", 1)
    with pagerduty.rest_api(settings(pd), Redactor()) as api:
        found = pagerduty.shifts(api, POLICY, AT)
    assert [s.person.email for s in found] == ["ana@example.com", "ben@example.com"]
    assert [r.query["offset"] for r in pd.calls("GET", "/oncalls")] == [["0"], ["1"]]


def test_a_429_is_retried_after_the_time_pagerduty_asks(
    pd: PagerDutyApi, monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps
) -> None:
    monkeypatch.setenv("HVB_PD_TOKEN", TOKEN)
    pd.fail_next(1, 429, {"error": {"message": "Rate Limit Exceeded", "code": 2020}}, retry_after="3")
    with pagerduty.rest_api(settings(pd), Redactor()) as api:
        assert len(pagerduty.shifts(api, POLICY, AT)) == 2
    assert sleeps == [3.0]
    assert [r.status for r in pd.calls("GET", "/oncalls")] == [429, 200]


def test_a_bad_token_is_pagerdutys_own_message_without_the_token(
    pd: PagerDutyApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HVB_PD_TOKEN", "wrong-token-123456")
    with pagerduty.rest_api(settings(pd), Redactor()) as api, pytest.raises(ApiError) as caught:
        pagerduty.shifts(api, POLICY, AT)
    assert str(caught.value) == "PagerDuty refused GET /oncalls: HTTP 401: Unauthorized (2006)"
    assert not caught.value.unreachable


def test_escalate_moves_pagerdutys_incident_found_by_its_key(pd: PagerDutyApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVB_PD_TOKEN", TOKEN)
    pd.routing_key = "rk"
    with pagerduty.rest_api(settings(pd), Redactor()) as api:
        api.call(
            "POST",
            "/v2/enqueue",
            json={
                "routing_key": "rk",
                "event_action": "trigger",
                "dedup_key": "INC-3",
                "payload": {"summary": "x", "source": "y", "severity": "error"},
            },
        )
        found = pagerduty.escalate(api, "INC-3", 2, "oncall@example.com")
        with pytest.raises(ApiError) as caught:
            pagerduty.escalate(api, "INC-3", 4, "oncall@example.com")
        with pytest.raises(ApiError) as missing:
            pagerduty.escalate(api, "INC-9", 2, "oncall@example.com")
    assert pd.incidents["INC-3"].escalation_level == 2
    (listed, *_) = pd.calls("GET", "/incidents")
    assert listed.query == {"incident_key": ["INC-3"], "statuses[]": ["triggered", "acknowledged"]}
    put = pd.calls("PUT", f"/incidents/{found}")[0]
    assert put.headers["from"] == "oncall@example.com"
    assert put.body == {"incident": {"type": "incident_reference", "escalation_level": 2}}
    assert str(caught.value) == (
        f"PagerDuty refused PUT /incidents/{found}: HTTP 400: Invalid Input Provided (2001): Escalation Level not found"
    )
    assert str(missing.value) == "PagerDuty has no open incident with key INC-9"


def test_no_token_is_bad_input_naming_the_variable(pd: PagerDutyApi, monkeypatch: pytest.MonkeyPatch) -> None:
    from opsctl.errors import BadInput

    monkeypatch.delenv("HVB_PD_TOKEN", raising=False)
    with pytest.raises(BadInput) as caught:
        pagerduty.rest_api(settings(pd), Redactor())
    assert str(caught.value) == (
        "HVB_PD_TOKEN is not set: export a PagerDuty REST API token (oncall.pagerduty.token_env)"
    )
