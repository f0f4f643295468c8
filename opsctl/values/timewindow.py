"""A deployment window: ``--window "2026-12-01T14:00/15:00"`` read into two aware UTC times.

The text is ``START/END`` (ISO 8601's interval with ``/``):

- ``START``: a date and time, ``2026-12-01T14:00`` (or with a space), with
  an optional zone (``Z``, ``+01:00``); or ``now``;
- ``END``: a time on the start's day (``15:00``), a full date and time, or a
  length (``90m``, ``2h``, ``PT1H30M``).

A time without a zone is in ``zone`` (an IANA name, default UTC): the zone
is never guessed from the machine, and every message shows the window in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

MAX_LENGTH = timedelta(hours=24)
EXAMPLE = "2026-12-01T14:00/15:00"
_TIME_ONLY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_ISO_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Window:
    """From ``start`` (included) to ``end`` (excluded), both aware and in UTC."""

    start: datetime
    end: datetime

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def text(self, zone: str | None = None) -> str:
        """``2026-12-01 14:00-15:00 UTC`` (the end's date only when it differs), and in ``zone`` if given."""
        shown = _span(self.start, self.end, "UTC")
        if zone and zone.upper() != "UTC":
            local = _zone(zone)
            start, end = self.start.astimezone(local), self.end.astimezone(local)
            shown += f" ({_span(start, end, start.strftime('%Z') or zone)})"
        return shown

    def as_dict(self) -> dict[str, Any]:
        return {"start": iso(self.start), "end": iso(self.end), "text": self.text()}


def iso(moment: datetime) -> str:
    """``2026-12-01T14:00:00Z``: how windows are written to the audit log."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _span(start: datetime, end: datetime, label: str) -> str:
    same_day = start.date() == end.date()
    until = end.strftime("%H:%M") if same_day else end.strftime("%Y-%m-%d %H:%M")
    joiner = "-" if same_day else " - "
    return f"{start.strftime('%Y-%m-%d %H:%M')}{joiner}{until} {label}"


def _zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{name}' (use an IANA name like Europe/Berlin, or UTC)") from None


def _moment(text: str, zone: tzinfo) -> datetime:
    cleaned = text.strip().replace(" ", "T", 1)
    if cleaned[-1:] in ("Z", "z"):
        cleaned = cleaned[:-1] + "+00:00"
    if "T" not in cleaned:
        raise ValueError(f"'{text}' is not a date and time like 2026-12-01T14:00")
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"'{text}' is not a date and time like 2026-12-01T14:00") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _length(text: str) -> timedelta | None:
    """``90m``, ``2h``, ``PT1H30M`` as a length; None when ``text`` is not one."""
    from opsctl.values.durations import DurationError, parse_duration

    iso_form = _ISO_DURATION.fullmatch(text)
    if iso_form is not None and any(iso_form.groups()):
        return timedelta(hours=int(iso_form.group(1) or 0), minutes=int(iso_form.group(2) or 0))
    if not text[:1].isdigit() or ":" in text or "-" in text:
        return None
    try:
        return timedelta(seconds=parse_duration(text, allow_zero=False))
    except DurationError:
        return None


def parse_window(text: str, now: datetime, zone: str | None = None) -> Window:
    """Read ``START/END``; ValueError with one line saying what is wrong (the caller names the option)."""
    local = _zone(zone) if zone else UTC
    first, sep, second = (text or "").strip().partition("/")
    first, second = first.strip(), second.strip()
    if not sep or not first or not second:
        raise ValueError(f"must be START/END like {EXAMPLE} (or START/90m)")
    start = now.astimezone(UTC).replace(microsecond=0) if first.lower() == "now" else _moment(first, local)
    until = _TIME_ONLY.fullmatch(second)
    length = None if until else _length(second)
    if until is not None:
        hour, minute, seconds = int(until.group(1)), int(until.group(2)), int(until.group(3) or 0)
        end = start.replace(hour=hour, minute=minute, second=seconds, microsecond=0)
        if end <= start:
            raise ValueError(
                f"ends at {second}, not after it starts ({first}); give the end's date for a window past midnight, "
                f"like {start.strftime('%Y-%m-%dT%H:%M')}/{(start + timedelta(days=1)).strftime('%Y-%m-%d')}T{second}"
            )
    elif length is not None:
        end = start + length
    else:
        end = _moment(second, start.tzinfo or local)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise ValueError(f"ends before it starts ({iso(end)} is not after {iso(start)})")
    if end - start > MAX_LENGTH:
        hours = (end - start).total_seconds() / 3600
        raise ValueError(f"lasts {hours:g}h; a deployment window is at most 24h (announce each day's window)")
    return Window(start, end)
