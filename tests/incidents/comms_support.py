"""A project wired to the PagerDuty, Statuspage, Slack and GitHub stand-ins, for the incident-comms tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from opsctl.net import jsonapi
from opsctl.notify import deliver
from tests.incidents.support import Project, make_project
from tests.notify.support import Sleeps
from tests.support.github_issues_api import REPO, GitHubIssuesApi
from tests.support.github_issues_api import TOKEN as GH_TOKEN
from tests.support.pagerduty_api import POLICY, ROUTING_KEY, PagerDutyApi
from tests.support.pagerduty_api import TOKEN as PD_TOKEN
from tests.support.slack_api import BOT_TOKEN, SlackApi
from tests.support.statuspage_api import API_KEY, COMPONENT, PAGE_ID, StatuspageApi

SECRETS = (ROUTING_KEY, PD_TOKEN, API_KEY, BOT_TOKEN, GH_TOKEN)
ENV = {"HVB_PD_KEY": ROUTING_KEY, "HVB_PD_TOKEN": PD_TOKEN, "HVB_SP_KEY": API_KEY, "HVB_SLACK_BOT": BOT_TOKEN}
CONTACTS = {"tech_lead": {"email": "tech-lead@example.com", "name": "Tess"}}
ROTATION = {
    "timezone": "Europe/Berlin",
    "handoff": "mon 09:00",
    "people": ["ana@example.com", "ben@example.com"],
    "start": "2026-11-23",  # ana's week: 2026-11-23 09:00 to 2026-11-30 09:00 Berlin
}


@dataclass
class Comms:
    pd: PagerDutyApi
    statuspage: StatuspageApi
    slack: SlackApi
    github: GitHubIssuesApi
    sleeps: Sleeps

    def notify(self, *, channel: bool = True, ticket: bool = False) -> dict[str, Any]:
        slack = {"bot_token_env": "HVB_SLACK_BOT", "api_url": self.slack.url}
        section: dict[str, Any] = {
            "pagerduty": {"routing_key_env": "HVB_PD_KEY", "api_url": self.pd.url},
            "statuspage": {
                "page_id": PAGE_ID,
                "api_key_env": "HVB_SP_KEY",
                "components": {"bot": COMPONENT},
                "api_url": self.statuspage.url,
            },
        }
        if channel:
            section["slack"] = slack
        if ticket:
            section["github_issue"] = {}
        return section

    def project(self, tmp_path: Path, *, pagerduty_oncall: bool = False, **notify: bool) -> Project:
        oncall: dict[str, Any] = {"escalation": "tech_lead"}
        if pagerduty_oncall:
            oncall["pagerduty"] = {"token_env": "HVB_PD_TOKEN", "escalation_policy": POLICY, "api_url": self.pd.url}
        else:
            oncall["rotation"] = ROTATION
        github = {"repo": REPO, "api_url": self.github.url, "token_env": "HVB_GH"}
        return make_project(tmp_path, contacts=CONTACTS, oncall=oncall, github=github, notify=self.notify(**notify))


@pytest.fixture(name="comms")
def comms_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Comms]:
    """The four stand-ins started (registered as ``comms``: import ``comms_fixture`` to use it)."""
    for name, value in {**ENV, "HVB_GH": GH_TOKEN}.items():
        monkeypatch.setenv(name, value)
    sleeps = Sleeps()
    monkeypatch.setattr(jsonapi, "DEFAULT_POLICY", jsonapi.RetryPolicy(attempts=3, budget=8.0, sleep=sleeps))
    monkeypatch.setattr(deliver, "DEFAULT_POLICY", deliver.RetryPolicy(attempts=3, budget=5.0, sleep=Sleeps()))
    stand_ins = (PagerDutyApi(), StatuspageApi(), SlackApi(), GitHubIssuesApi())
    for stand_in in stand_ins:
        stand_in.start()
    pd, statuspage, slack, github = stand_ins
    assert isinstance(pd, PagerDutyApi)
    assert isinstance(statuspage, StatuspageApi)
    assert isinstance(slack, SlackApi)
    assert isinstance(github, GitHubIssuesApi)
    for email in ("ana@example.com", "ben@example.com", "tech-lead@example.com"):
        slack.add_user(email)
    try:
        yield Comms(pd, statuspage, slack, github, sleeps)
    finally:
        for stand_in in stand_ins:
            stand_in.stop()


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
