"""``--window START/END``: the forms people write, zones made explicit, and one clear line for each mistake."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opsctl.values.timewindow import Window, iso, parse_window

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-12-01T14:00/15:00", "2026-12-01T14:00Z", "2026-12-01T15:00Z"),  # the example: UTC
        ("2026-12-01 14:00/15:30", "2026-12-01T14:00Z", "2026-12-01T15:30Z"),
        ("2026-12-01T14:00Z/2026-12-01T16:00Z", "2026-12-01T14:00Z", "2026-12-01T16:00Z"),
        ("2026-12-01T14:00+01:00/15:00", "2026-12-01T13:00Z", "2026-12-01T14:00Z"),  # the end takes the start's zone
        ("2026-12-01T23:00/2026-12-02T01:00", "2026-12-01T23:00Z", "2026-12-02T01:00Z"),
        ("2026-12-01T14:00/90m", "2026-12-01T14:00Z", "2026-12-01T15:30Z"),
        ("2026-12-01T14:00/PT1H30M", "2026-12-01T14:00Z", "2026-12-01T15:30Z"),
        ("now/10:30", "2026-11-30T09:00Z", "2026-11-30T10:30Z"),
        ("now/2h", "2026-11-30T09:00Z", "2026-11-30T11:00Z"),
    ],
)
def test_forms(text: str, start: str, end: str) -> None:
    assert parse_window(text, NOW) == Window(at(start), at(end))


def test_times_without_a_zone_are_in_the_given_zone() -> None:
    window = parse_window("2026-12-01T15:00/16:00", NOW, "Europe/Berlin")
    assert (iso(window.start), iso(window.end)) == ("2026-12-01T14:00:00Z", "2026-12-01T15:00:00Z")
    assert window.text("Europe/Berlin") == "2026-12-01 14:00-15:00 UTC (2026-12-01 15:00-16:00 CET)"
    assert window.text() == "2026-12-01 14:00-15:00 UTC"


def test_text_names_the_end_date_when_it_differs_and_as_dict() -> None:
    window = parse_window("2026-12-01T23:00/2026-12-02T01:00", NOW)
    assert window.text() == "2026-12-01 23:00 - 2026-12-02 01:00 UTC"
    assert window.as_dict() == {
        "start": "2026-12-01T23:00:00Z",
        "end": "2026-12-02T01:00:00Z",
        "text": "2026-12-01 23:00 - 2026-12-02 01:00 UTC",
    }


def test_covers_includes_the_start_and_excludes_the_end() -> None:
    window = parse_window("2026-12-01T14:00/15:00", NOW)
    assert window.covers(at("2026-12-01T14:00Z"))
    assert window.covers(at("2026-12-01T14:59:59Z"))
    assert not window.covers(at("2026-12-01T15:00Z"))
    assert not window.covers(at("2026-12-01T13:59:59Z"))


@pytest.mark.parametrize(
    ("text", "zone", "message"),
    [
        ("2026-12-01T14:00", None, "must be START/END like 2026-12-01T14:00/15:00 (or START/90m)"),
        ("2026-12-01T14:00/", None, "must be START/END like 2026-12-01T14:00/15:00 (or START/90m)"),
        ("tomorrow/15:00", None, "'tomorrow' is not a date and time like 2026-12-01T14:00"),
        ("2026-12-01/15:00", None, "'2026-12-01' is not a date and time like 2026-12-01T14:00"),
        ("2026-12-01T14:00/soon", None, "'soon' is not a date and time like 2026-12-01T14:00"),
        ("2026-13-01T14:00/15:00", None, "'2026-13-01T14:00' is not a date and time like 2026-12-01T14:00"),
        (
            "2026-12-01T23:00/01:00",
            None,
            "ends at 01:00, not after it starts (2026-12-01T23:00); give the end's date for a window past "
            "midnight, like 2026-12-01T23:00/2026-12-02T01:00",
        ),
        (
            "2026-12-01T15:00Z/2026-12-01T14:00Z",
            None,
            "ends before it starts (2026-12-01T14:00:00Z is not after 2026-12-01T15:00:00Z)",
        ),
        (
            "2026-12-01T14:00/2026-12-02T15:00",
            None,
            "lasts 25h; a deployment window is at most 24h (announce each day's window)",
        ),
        (
            "2026-12-01T14:00/15:00",
            "Mars/Olympus",
            "unknown time zone 'Mars/Olympus' (use an IANA name like Europe/Berlin, or UTC)",
        ),
    ],
)
def test_mistakes_say_what_is_wrong(text: str, zone: str | None, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_window(text, NOW, zone)
    assert str(caught.value) == message
