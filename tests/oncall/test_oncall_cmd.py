"""``opsctl oncall``: the rotation or PagerDuty at a moment, as lines or JSON; its errors, one line each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.incidents.support import Project, make_project
from tests.support.pagerduty_api import POLICY, TOKEN, PagerDutyApi

CONTACTS = {"tech_lead": {"email": "tech-lead@example.com", "name": "Tess Lead"}, "ana": {"email": "ana@example.com"}}
ROTATION = {
    "rotation": {
        "timezone": "Europe/Berlin",
        "handoff": "mon 09:00",
        "people": ["ana@example.com", "ben@example.com", "chris@example.com"],
        "start": "2026-11-30",
    },
    "escalation": "tech_lead",
}


def rotation_project(tmp_path: Path, **extra: Any) -> Project:
    return make_project(tmp_path, contacts=CONTACTS, oncall=ROTATION, **extra)


@pytest.fixture
def pd() -> Iterator[PagerDutyApi]:
    api = PagerDutyApi()
    api.add_oncall(1, "Ana Lima", "ana@example.com", start="2026-11-23T08:00:00Z", end="2026-11-30T08:00:00Z")
    api.add_oncall(2, "Ben Ode", "ben@example.com", start="2026-11-23T08:00:00Z", end="2026-11-30T08:00:00Z")
    with api.running():
        yield api


def test_the_rotation_at_a_given_time(tmp_path: Path) -> None:
    project = rotation_project(tmp_path)
    shown = project.ok("oncall", "--at", "2026-12-08 10:00")  # Berlin time: week 2, Ben
    assert shown.out == (
        "on call at 2026-12-08 09:00 UTC · from rotation (Europe/Berlin)\n"
        "  primary     ben@example.com\n"
        "  secondary   chris@example.com\n"
        "  escalation  Tess Lead (tech-lead@example.com)\n"
        "  next handoff 2026-12-14 08:00 UTC (Mon 2026-12-14 09:00 CET)\n"
    )
    data = project.ok("--json", "oncall", "--at", "2026-11-30T08:00:00Z").json()
    assert data == {
        "at": "2026-11-30T08:00:00.000Z",
        "source": "rotation",
        "primary": [{"name": "ana", "email": "ana@example.com"}],  # named after the contact with that email
        "secondary": [{"name": "ben@example.com", "email": "ben@example.com"}],
        "escalation": {"name": "Tess Lead", "email": "tech-lead@example.com"},
        "next_handoff": "2026-12-07T08:00:00.000Z",
        "timezone": "Europe/Berlin",
    }


def test_now_is_the_workspace_clock(tmp_path: Path) -> None:
    project = rotation_project(tmp_path)  # the clock stands at 2026-11-27 10:00 UTC: before the rota starts
    assert project.ok("--json", "oncall").json()["primary"] == [
        {"name": "chris@example.com", "email": "chris@example.com"}
    ]


def test_pagerduty_levels_one_and_two(tmp_path: Path, pd: PagerDutyApi) -> None:
    oncall = {"pagerduty": {"token_env": "HVB_PD_TOKEN", "escalation_policy": POLICY, "api_url": pd.url}}
    project = make_project(tmp_path, contacts=CONTACTS, oncall={**oncall, "escalation": "tech_lead"})
    shown = project.ok("oncall", env={"HVB_PD_TOKEN": TOKEN})
    assert shown.out == (
        "on call at 2026-11-27 10:00 UTC · from PagerDuty\n"
        "  primary     Ana Lima (ana@example.com)\n"
        "  secondary   Ben Ode (ben@example.com)\n"
        "  escalation  Tess Lead (tech-lead@example.com)\n"
        "  next handoff 2026-11-30 08:00 UTC\n"
    )
    assert TOKEN not in shown.out + shown.err


def test_pagerduty_unreachable_is_exit_5(tmp_path: Path, pd: PagerDutyApi, monkeypatch: pytest.MonkeyPatch) -> None:
    from opsctl.net import jsonapi

    monkeypatch.setattr(jsonapi, "DEFAULT_POLICY", jsonapi.RetryPolicy(attempts=2, sleep=lambda _s: None))
    oncall = {"pagerduty": {"token_env": "HVB_PD_TOKEN", "escalation_policy": POLICY, "api_url": pd.url}}
    project = make_project(tmp_path, oncall=oncall)
    pd.fail_next(2, 503, {"error": {"message": "Service Unavailable"}})
    failed = project.run("oncall", env={"HVB_PD_TOKEN": TOKEN})
    assert failed.code == 5
    assert failed.error() == (
        "error: PagerDuty GET /oncalls failed after 2 attempt(s): HTTP 503: Service Unavailable; try again"
    )


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (
            ["oncall", "--at", "next tuesday"],
            {"oncall": ROTATION, "contacts": CONTACTS},
            "error: --at must be a time like 2026-12-01T10:00Z, not 'next tuesday'",
        ),
        (
            ["oncall"],
            {},
            "error: no oncall: section in opsctl.yaml; add oncall: {rotation: {timezone, handoff, people}} "
            "or oncall: {pagerduty: {token_env, escalation_policy}}",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], config: dict[str, Any], message: str) -> None:
    failed = make_project(tmp_path, **config).run(*args)
    assert (failed.code, failed.error()) == (2, message)


def test_status_shows_the_primary(tmp_path: Path) -> None:
    from opsctl.status.environment import _oncall
    from opsctl.workspace import Workspace

    project = rotation_project(tmp_path)
    ws = Workspace.load(str(project.config), actor="a@example.com", clock=project.clock)
    found, problems = _oncall(ws)
    assert (found.primary_text if found else None, problems) == ("chris@example.com", [])
