"""When a post-mortem is due: within 5 business days of resolving a P0 or P1.

Business days are Monday to Friday (public holidays are not known to opsctl:
pick an earlier day with ``--postmortem-date`` when one falls in between).
Days are UTC calendar days, the same for everyone on the team.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from opsctl.errors import BadInput

BUSINESS_DAYS = 5


def add_business_days(start: date, days: int) -> date:
    """The ``days``-th weekday after ``start`` (``start`` itself not counted)."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def default_date(resolved_at: datetime) -> date:
    """The latest allowed post-mortem day for an incident resolved at ``resolved_at``."""
    return add_business_days(resolved_at.date(), BUSINESS_DAYS)


def choose_date(text: str | None, resolved_at: datetime) -> date:
    """``--postmortem-date`` checked (from the resolution day to 5 business days on), or the default."""
    latest = default_date(resolved_at)
    if text is None:
        return latest
    try:
        chosen = date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"--postmortem-date must be a day like {latest.isoformat()}, not '{text}'") from None
    today = resolved_at.date()
    if chosen < today:
        raise BadInput(
            f"--postmortem-date {chosen} is in the past: pick a day from {today} to {latest} (5 business days)"
        )
    if chosen > latest:
        raise BadInput(
            f"--postmortem-date {chosen} is more than {BUSINESS_DAYS} business days away: "
            f"the post-mortem is due by {latest}"
        )
    return chosen
