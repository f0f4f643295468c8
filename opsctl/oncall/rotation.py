"""A static weekly rotation: at each handoff the next person in ``people`` becomes primary.

Weeks are counted from ``start`` (a handoff day on which ``people[0]`` takes
over) or, without it, from the handoff of Monday 1970-01-05's week, so that
every machine computes the same rota. The handoff is wall-clock time in the
rotation's zone: it stays "Monday 09:00 in Berlin" across daylight saving.
The secondary is the person after the primary in the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from opsctl.config.contacts import parse_handoff

if TYPE_CHECKING:
    from opsctl.config import Rotation

EPOCH = date(1970, 1, 5)  # a Monday


@dataclass(frozen=True)
class Turn:
    """One week of the rotation: its index in ``people`` order, primary, secondary, and the next handoff."""

    primary: str
    secondary: str | None
    started: datetime
    next_handoff: datetime


def turn_at(rotation: Rotation, at: datetime) -> Turn:
    """The rotation's week that contains ``at`` (an aware datetime)."""
    zone = ZoneInfo(rotation.timezone)
    weekday, hour, minute = parse_handoff(rotation.handoff)
    local = at.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    started = datetime.combine(day, time(hour, minute), tzinfo=zone)
    if started > local:
        day -= timedelta(days=7)
        started = datetime.combine(day, time(hour, minute), tzinfo=zone)
    anchor = rotation.start or EPOCH + timedelta(days=weekday)
    people = rotation.people
    index = ((day - anchor).days // 7) % len(people)
    secondary = people[(index + 1) % len(people)] if len(people) > 1 else None
    following = datetime.combine(day + timedelta(days=7), time(hour, minute), tzinfo=zone)
    return Turn(people[index], secondary, started.astimezone(UTC), following.astimezone(UTC))
