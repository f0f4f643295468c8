"""contacts and oncall: who is told, who is on call, and who is the last level of escalation.

``contacts`` names people once (``tech_lead: {email: ...}``) so that other
sections refer to them by name; ``oncall`` says where the on-call comes from:
PagerDuty's REST API (an escalation policy) or a static weekly rotation.
``oncall.escalation`` must name a contact: it is checked against ``contacts``
when the file is loaded, so a typo fails ``config check``, not an incident.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from opsctl.config.base import EnvVarName, Model, Name
from opsctl.values.urls import HttpUrl

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun"
_HANDOFF = re.compile(rf"^({_DAY_NAMES})\s+([01]?\d|2[0-3]):([0-5]\d)$", re.IGNORECASE)
HANDOFF_HINT = 'must be a weekday and a time like "mon 09:00"'

Email = Annotated[str, Field(pattern=EMAIL_PATTERN, description="an email address")]


class Contact(Model):
    """Someone opsctl can name and notify."""

    email: Email
    name: str | None = Field(None, description="how the person is shown; default: the contact's key")


class PagerDutyOncall(Model):
    """On-call from PagerDuty's REST API: levels 1 and 2 of one escalation policy."""

    token_env: EnvVarName = "PAGERDUTY_API_TOKEN"  # noqa: S105 - the name of an env var, not a token
    escalation_policy: str = Field(pattern=r"^[A-Z0-9]+$", description="escalation policy id, e.g. PXXXXXX")
    api_url: HttpUrl = "https://api.pagerduty.com"
    from_email: Email | None = Field(
        None, alias="from", description="PagerDuty user that escalations are made as (default: the actor)"
    )


def parse_handoff(text: str) -> tuple[int, int, int]:
    """``"mon 09:00"`` as (weekday 0=Monday, hour, minute); ValueError(:data:`HANDOFF_HINT`) otherwise."""
    found = _HANDOFF.fullmatch(" ".join(str(text).split()))
    if found is None:
        raise ValueError(HANDOFF_HINT)
    return WEEKDAYS.index(found.group(1).lower()[:3]), int(found.group(2)), int(found.group(3))


class Rotation(Model):
    """A static weekly rotation: each handoff passes the primary to the next person in ``people``."""

    timezone: str = Field(description="IANA zone the handoff time is in, e.g. Europe/Berlin")
    handoff: str = Field("mon 09:00", description='weekday and time of the weekly handoff, e.g. "mon 09:00"')
    people: list[Email] = Field(description="in rotation order; the one after the primary is the secondary")
    start: date | None = Field(
        None, description="a handoff day on which people[0] becomes primary (default: weeks counted from 1970-01-05)"
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (use an IANA name like Europe/Berlin)") from None
        return value

    @field_validator("handoff")
    @classmethod
    def _handoff(cls, value: str) -> str:
        parse_handoff(value)
        return value

    @field_validator("people")
    @classmethod
    def _people(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("a rotation needs people: list who takes turns, e.g. [ana@example.com, ben@example.com]")
        return value

    @model_validator(mode="after")
    def _start_on_handoff_day(self) -> Rotation:
        if self.start is not None and self.start.weekday() != parse_handoff(self.handoff)[0]:
            raise ValueError(f"start {self.start} is a {WEEKDAYS[self.start.weekday()]}: it must be a handoff day")
        return self


class Oncall(Model):
    """Who is on call: PagerDuty or a rotation (one of them), and the last level of escalation."""

    pagerduty: PagerDutyOncall | None = None
    rotation: Rotation | None = None
    escalation: Name | None = Field(None, description="a contact: the level after primary and secondary")

    @model_validator(mode="after")
    def _one_source(self) -> Oncall:
        if self.pagerduty is not None and self.rotation is not None:
            raise ValueError("give either pagerduty or rotation, not both")
        if self.pagerduty is None and self.rotation is None and self.escalation is None:
            raise ValueError("say where the on-call comes from: pagerduty: {...} or rotation: {...}")
        return self


def _escalation_is_a_contact(value: Oncall | None, info: ValidationInfo) -> Oncall | None:
    contacts: dict[str, Any] = info.data.get("contacts") or {}
    if value is not None and value.escalation is not None and value.escalation not in contacts:
        known = ", ".join(sorted(contacts)) or "none defined"
        raise ValueError(f"escalation '{value.escalation}' is not a contact (contacts: {known})")
    return value


Contacts = dict[Name, Contact]
OncallSetting = Annotated[Oncall | None, AfterValidator(_escalation_is_a_contact)]
"""``Config.oncall``: declared after ``contacts`` so that the escalation can be checked against them."""
