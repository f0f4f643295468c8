"""The weekly rotation: who is primary and secondary at a moment, and when the next handoff is."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from opsctl.config import Rotation
from opsctl.oncall.rotation import turn_at

PEOPLE = ["ana@example.com", "ben@example.com", "chris@example.com"]


def rotation(**overrides: object) -> Rotation:
    fields: dict[str, object] = {"timezone": "Europe/Berlin", "handoff": "mon 09:00", "people": PEOPLE}
    fields.update(overrides)
    return Rotation.model_validate(fields)


@pytest.mark.parametrize(
    ("moment", "primary", "secondary", "handoff"),
    [
        # 09:00 in Berlin is 08:00 UTC in winter: just before it, last week's primary is still on.
        (datetime(2026, 11, 30, 7, 59, tzinfo=UTC), "chris@example.com", "ana@example.com", "2026-11-30T08:00"),
        (datetime(2026, 11, 30, 8, 0, tzinfo=UTC), "ana@example.com", "ben@example.com", "2026-12-07T08:00"),
        (datetime(2026, 12, 6, 23, 0, tzinfo=UTC), "ana@example.com", "ben@example.com", "2026-12-07T08:00"),
        (datetime(2026, 12, 7, 8, 0, tzinfo=UTC), "ben@example.com", "chris@example.com", "2026-12-14T08:00"),
        (datetime(2026, 12, 14, 12, 0, tzinfo=UTC), "chris@example.com", "ana@example.com", "2026-12-21T08:00"),
        (datetime(2026, 12, 21, 12, 0, tzinfo=UTC), "ana@example.com", "ben@example.com", "2026-12-28T08:00"),
    ],
)
def test_each_handoff_passes_to_the_next_person(moment: datetime, primary: str, secondary: str, handoff: str) -> None:
    turn = turn_at(rotation(start="2026-11-30"), moment)
    assert (turn.primary, turn.secondary) == (primary, secondary)
    assert turn.next_handoff == datetime.fromisoformat(handoff + "+00:00")


def test_the_handoff_is_wall_clock_time_across_daylight_saving() -> None:
    # Berlin leaves summer time on Sunday 2026-10-25: Monday 09:00 is 07:00 UTC before, 08:00 UTC after.
    summer = turn_at(rotation(start="2026-10-19"), datetime(2026, 10, 19, 7, 0, tzinfo=UTC))
    assert summer.primary == "ana@example.com"
    assert summer.next_handoff == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert turn_at(rotation(start="2026-10-19"), datetime(2026, 10, 26, 7, 30, tzinfo=UTC)).primary == "ana@example.com"
    assert turn_at(rotation(start="2026-10-19"), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)).primary == "ben@example.com"


def test_without_start_weeks_count_from_1970_01_05_so_every_machine_agrees() -> None:
    # 2969 weeks from Monday 1970-01-05 to Monday 2026-11-30: 2969 % 3 = 2, the third person.
    turn = turn_at(rotation(), datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    assert (turn.primary, turn.secondary) == ("chris@example.com", "ana@example.com")
    assert turn.started == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_other_handoff_days_and_zones() -> None:
    friday = rotation(timezone="America/New_York", handoff="Friday 17:30", start=date(2026, 11, 27))
    # 17:30 in New York is 22:30 UTC in winter.
    assert turn_at(friday, datetime(2026, 11, 27, 22, 29, tzinfo=UTC)).primary == "chris@example.com"
    turn = turn_at(friday, datetime(2026, 11, 27, 22, 30, tzinfo=UTC))
    assert turn.primary == "ana@example.com"
    assert turn.next_handoff == datetime(2026, 12, 4, 22, 30, tzinfo=UTC)


def test_one_person_has_no_secondary() -> None:
    turn = turn_at(rotation(people=["solo@example.com"]), datetime(2026, 12, 1, tzinfo=UTC))
    assert (turn.primary, turn.secondary) == ("solo@example.com", None)
