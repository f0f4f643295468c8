"""The Statuspage client against the stand-in: exact requests, component mapping, errors without the key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opsctl.config import StatuspageNotify
from opsctl.errors import BadInput
from opsctl.net.jsonapi import ApiError
from opsctl.notify import statuspage
from opsctl.values.redact import Redactor
from tests.support.statuspage_api import API_KEY, COMPONENT, PAGE_ID, StatuspageApi


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatuspageApi]:
    monkeypatch.setenv("HVB_SP_KEY", API_KEY)
    with StatuspageApi().running() as api:
        assert isinstance(api, StatuspageApi)
        yield api


def settings(page: StatuspageApi) -> StatuspageNotify:
    return StatuspageNotify.model_validate(
        {"page_id": PAGE_ID, "api_key_env": "HVB_SP_KEY", "components": {"bot": COMPONENT}, "api_url": page.url}
    )


@pytest.mark.parametrize(
    ("severity", "status"),
    [("P0", "major_outage"), ("P1", "partial_outage"), ("P2", "degraded_performance"), ("P3", "operational")],
)
def test_component_status_follows_the_severity(page: StatuspageApi, severity: str, status: str) -> None:
    with statuspage.statuspage_api(settings(page), Redactor()) as api:
        made = statuspage.create(
            api, PAGE_ID, "Calls fail", "We are on it.", severity=severity, components={"bot": COMPONENT}
        )
    assert (made.id, made.shortlink, made.status) == ("spinc0001", "https://stspg.io/hvb1", "investigating")
    assert page.component_status == {COMPONENT: status}
    (request,) = page.requests
    assert (request.method, request.path, request.headers["authorization"]) == (
        "POST",
        f"/pages/{PAGE_ID}/incidents",
        f"OAuth {API_KEY}",
    )


def test_update_and_resolve(page: StatuspageApi) -> None:
    with statuspage.statuspage_api(settings(page), Redactor()) as api:
        made = statuspage.create(api, PAGE_ID, "Calls fail", "On it.", severity="P0", components={"bot": COMPONENT})
        assert statuspage.update(api, PAGE_ID, made.id, "Fix deployed.", "monitoring").status == "monitoring"
        assert statuspage.resolve(api, PAGE_ID, made.id, "All good.", [COMPONENT]).status == "resolved"
    assert page.component_status == {COMPONENT: "operational"}
    assert [u["body"] for u in page.incidents[made.id]["incident_updates"]] == ["All good.", "Fix deployed.", "On it."]


def test_errors_are_one_line_without_the_key(page: StatuspageApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVB_SP_KEY", "wrong-key-0123456789")
    redactor = Redactor()
    with statuspage.statuspage_api(settings(page), redactor) as api, pytest.raises(ApiError) as caught:
        statuspage.create(api, PAGE_ID, "x", "y", severity="P1", components={})
    assert str(caught.value) == f"Statuspage refused POST /pages/{PAGE_ID}/incidents: HTTP 401: Could not authenticate"
    monkeypatch.setenv("HVB_SP_KEY", API_KEY)
    with statuspage.statuspage_api(settings(page), redactor) as api, pytest.raises(ApiError) as invalid:
        statuspage.create(api, PAGE_ID, "", "y", severity="P1", components={})
    assert str(invalid.value) == f"Statuspage refused POST /pages/{PAGE_ID}/incidents: HTTP 422: Name can't be blank"


def test_unknown_components_and_missing_sections_are_bad_input(page: StatuspageApi) -> None:
    with pytest.raises(BadInput) as caught:
        statuspage.choose_components(settings(page), ["bot", "db"])
    assert str(caught.value) == "unknown Statuspage component 'db' (notify.statuspage.components: bot)"
    assert statuspage.choose_components(settings(page), []) == {"bot": COMPONENT}
