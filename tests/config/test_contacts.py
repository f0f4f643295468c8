"""contacts and oncall in opsctl.yaml: what loads, and each mistake as one line naming file, line and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsctl.config import load_config
from opsctl.errors import ConfigError
from tests.support.context import base_config, write_config

CONTACTS = {"devops": {"email": "devops@example.com"}, "tech_lead": {"email": "tech-lead@example.com"}}
ROTATION = {"timezone": "Europe/Berlin", "handoff": "mon 09:00", "people": ["ana@example.com", "ben@example.com"]}


def load(tmp_path: Path, **sections: Any) -> Any:
    return load_config(write_config(tmp_path, base_config(**sections)))


def error(tmp_path: Path, **sections: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **sections)
    return str(caught.value).removeprefix(f"{tmp_path}/")


def test_the_issue_example_loads(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        contacts=CONTACTS,
        oncall={"rotation": ROTATION, "escalation": "tech_lead"},
        notify={
            "statuspage": {"page_id": "abc123", "api_key_env": "SP_KEY", "components": {"bot": "cmp1"}},
            "slack": {"bot_token_env": "SLACK_BOT_TOKEN"},
        },
    )
    assert config.oncall.escalation == "tech_lead"
    assert config.contacts["devops"].email == "devops@example.com"
    assert config.notify.statuspage.api_url == "https://api.statuspage.io/v1"
    assert config.notify.slack.api_url == "https://slack.com/api"
    pd = load(tmp_path, oncall={"pagerduty": {"escalation_policy": "PXXXXXX"}}).oncall.pagerduty
    assert (pd.token_env, pd.api_url) == ("PAGERDUTY_API_TOKEN", "https://api.pagerduty.com")


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        (
            {"contacts": CONTACTS, "oncall": {"rotation": ROTATION, "escalation": "boss"}},
            "opsctl.yaml:25: oncall: escalation 'boss' is not a contact (contacts: devops, tech_lead)",
        ),
        (
            {"oncall": {"rotation": {**ROTATION, "people": []}}},
            "opsctl.yaml:24: oncall -> rotation -> people: a rotation needs people: list who takes turns, "
            "e.g. [ana@example.com, ben@example.com]",
        ),
        (
            {"oncall": {"rotation": {**ROTATION, "timezone": "Mars/Base"}}},
            "opsctl.yaml:22: oncall -> rotation -> timezone: unknown time zone 'Mars/Base' "
            "(use an IANA name like Europe/Berlin)",
        ),
        (
            {"oncall": {"rotation": {**ROTATION, "handoff": "monkey 9:00"}}},
            'opsctl.yaml:23: oncall -> rotation -> handoff: must be a weekday and a time like "mon 09:00"',
        ),
        (
            {"oncall": {"rotation": {**ROTATION, "start": "2026-12-01"}}},
            "opsctl.yaml:21: oncall -> rotation: start 2026-12-01 is a tue: it must be a handoff day",
        ),
        (
            {"oncall": {"rotation": ROTATION, "pagerduty": {"escalation_policy": "P1"}}},
            "opsctl.yaml:20: oncall: give either pagerduty or rotation, not both",
        ),
        (
            {"notify": {"statuspage": {"page_id": "p1", "components": {"bot": "not an id"}}}},
            "opsctl.yaml:23: notify -> statuspage -> components: component bot: 'not an id' is not a Statuspage "
            "component id",
        ),
    ],
)
def test_mistakes_are_one_line(tmp_path: Path, sections: dict[str, Any], message: str) -> None:
    assert error(tmp_path, **sections) == message
