"""The periods reviews cover: an ISO week, a calendar month, a calendar quarter (UTC).

Written ``2026-W47``, ``2026-11`` and ``2026-Q3``. Without one, a review
covers the last complete period before now (a Monday's weekly review is of
the week that just ended).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from opsctl.errors import BadInput

KINDS = ("weekly", "monthly", "quarterly")
_FORMS = {"weekly": "2026-W47", "monthly": "2026-11", "quarterly": "2026-Q3"}
_PATTERNS = {
    "weekly": re.compile(r"(\d{4})-W(\d{1,2})", re.IGNORECASE),
    "monthly": re.compile(r"(\d{4})-(\d{1,2})"),
    "quarterly": re.compile(r"(\d{4})-Q([1-4])", re.IGNORECASE),
}


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC, and how people name it."""

    kind: str
    label: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        return containing(self.kind, self.start - timedelta(seconds=1))

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "label": self.label, "start": _iso(self.start), "end": _iso(self.end)}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def containing(kind: str, moment: datetime) -> Period:
    """The period of ``kind`` that contains ``moment``."""
    day = moment.astimezone(UTC).date()
    if kind == "weekly":
        monday = day - timedelta(days=day.weekday())
        year, week, _ = monday.isocalendar()
        return Period(kind, f"{year}-W{week:02d}", _utc(monday), _utc(monday + timedelta(days=7)))
    if kind == "monthly":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return Period(kind, f"{first:%Y-%m}", _utc(first), _utc(following))
    quarter = (day.month - 1) // 3
    first = date(day.year, quarter * 3 + 1, 1)
    following = date(day.year + 1, 1, 1) if quarter == 3 else date(day.year, quarter * 3 + 4, 1)
    return Period(kind, f"{day.year}-Q{quarter + 1}", _utc(first), _utc(following))


def period_of(kind: str, text: str | None, now: datetime) -> Period:
    """The period named by ``text`` (``--period``), or the last complete one before ``now``."""
    if kind not in KINDS:
        raise BadInput(f"unknown review '{kind}' (use weekly, monthly or quarterly)")
    if text is None or not text.strip():
        return containing(kind, now).previous()
    found = _PATTERNS[kind].fullmatch(text.strip())
    wrong = BadInput(f"--period '{text}' is not a {kind} period (write it like {_FORMS[kind]})")
    if found is None:
        raise wrong
    year, number = int(found.group(1)), int(found.group(2))
    # Checked first: the dates around year 1 or 9999 (the period before, the one after) do not exist.
    if year < 1970:
        raise BadInput(f"--period '{text}' is before 1970; no audit log reaches back that far")
    if year > now.year:
        raise BadInput(f"--period {text.strip()} has not started yet (now is {now:%Y-%m-%d %H:%M} UTC)")
    try:
        if kind == "weekly":
            start = date.fromisocalendar(year, number, 1)
        elif kind == "monthly":
            start = date(year, number, 1)
        else:
            start = date(year, (number - 1) * 3 + 1, 1)
    except ValueError:
        raise wrong from None
    period = containing(kind, _utc(start))
    if period.start >= now:
        raise BadInput(f"--period {period.label} has not started yet (now is {now:%Y-%m-%d %H:%M} UTC)")
    return period
