"""Who is on call at a moment, from ``oncall:`` in opsctl.yaml (PagerDuty or the rotation)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from opsctl.errors import BadInput, Unavailable
from opsctl.net.jsonapi import ApiError
from opsctl.oncall.model import OnCall, Person

if TYPE_CHECKING:
    from opsctl.config import Config, Oncall
    from opsctl.values.redact import Redactor

NOT_CONFIGURED = (
    "no oncall: section in opsctl.yaml; add oncall: {rotation: {timezone, handoff, people}} "
    "or oncall: {pagerduty: {token_env, escalation_policy}}"
)


def oncall_settings(config: Config) -> Oncall:
    """``config.oncall``, or BadInput saying how to add it."""
    if config.oncall is None:
        raise BadInput(NOT_CONFIGURED)
    return config.oncall


def person(config: Config, email: str) -> Person:
    """An email as a Person, named after the contact with that address when there is one."""
    for key, contact in config.contacts.items():
        if contact.email.lower() == email.lower():
            return Person(contact.name or key, contact.email)
    return Person(email, email)


def escalation_contact(config: Config) -> Person | None:
    settings = config.oncall
    if settings is None or settings.escalation is None:
        return None
    contact = config.contacts[settings.escalation]  # checked when the file was loaded
    return Person(contact.name or settings.escalation, contact.email)


def who_is_on_call(config: Config, redactor: Redactor, at: datetime) -> OnCall:
    """Primary, secondary and escalation at ``at``.

    PagerDuty unreachable is Unavailable (exit 5); a refused request (bad
    token, unknown policy) is BadInput naming PagerDuty's own message.
    """
    settings = oncall_settings(config)
    escalation = escalation_contact(config)
    if settings.rotation is not None:
        from opsctl.oncall.rotation import turn_at

        turn = turn_at(settings.rotation, at)
        secondary: tuple[Person, ...] = (person(config, turn.secondary),) if turn.secondary else ()
        return OnCall(
            at,
            "rotation",
            (person(config, turn.primary),),
            secondary,
            escalation,
            turn.next_handoff,
            settings.rotation.timezone,
        )
    if settings.pagerduty is None:  # only an escalation contact: nobody rotates
        return OnCall(at, "contacts", (), (), escalation, None)
    from opsctl.oncall import pagerduty

    try:
        with pagerduty.rest_api(settings.pagerduty, redactor) as api:
            found = pagerduty.shifts(api, settings.pagerduty.escalation_policy, at)
    except ApiError as exc:
        if exc.unreachable:
            raise Unavailable(f"{exc}; try again") from None
        raise BadInput(str(exc)) from None
    primary = tuple(dict.fromkeys(s.person for s in found if s.level == 1))
    secondary = tuple(dict.fromkeys(s.person for s in found if s.level == 2))
    ends = [s.end for s in found if s.level == 1 and s.end is not None]
    return OnCall(at, "pagerduty", primary, secondary, escalation, min(ends) if ends else None)
