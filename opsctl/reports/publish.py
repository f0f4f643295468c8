"""A review published: written to a file and/or sent to Slack and email, and recorded as held.

Recording is what makes "regular operational reviews" evidence for
``opsctl maturity``: one ``review`` event with status ``held`` (its kind,
period, file and where it was sent). A review only printed to the terminal
is a preview and records nothing. Delivery is the notify dispatch's:
best-effort, each attempt journaled, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.reports.held import REVIEW_RUNBOOK, REVIEW_STEP
from opsctl.reports.review import Review

if TYPE_CHECKING:
    from opsctl.notify.deliver import DeliveryResult
    from opsctl.workspace import Workspace

CHANNELS = ("slack", "email")  # where a review goes; PagerDuty pages people and is not for reviews
EVENT = "review"
_TEXT_MAX = 2800  # Slack cuts a section at 3,000 characters; the whole review is in the file


@dataclass(frozen=True)
class Published:
    """What happened to a review: the audit run that recorded it, its file, its deliveries."""

    run: str
    out: Path | None
    deliveries: tuple[DeliveryResult, ...]
    channels: tuple[str, ...]  # the configured channels it was meant for

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "out": str(self.out) if self.out else None,
            "channels": list(self.channels),
            "deliveries": [d.as_dict() for d in self.deliveries],
        }


def digest(review: Review) -> str:
    """The message a channel gets: the headline figures and what to discuss (the file has the rest)."""
    total = review.report.total
    from opsctl.reports import figures as fig

    lines = [
        f"{total.deploys} deploys, success {fig.percent(total.success_rate)}, change failure rate "
        f"{fig.percent(total.change_failure_rate)}, MTTR {fig.duration(total.mttr_s)}; "
        f"{len(review.incidents)} incident(s).",
    ]
    points = review.to_discuss()
    if points:
        lines.append("To discuss:")
        lines += [f"• {p}" for p in points[:10]]
        if len(points) > 10:
            lines.append(f"• and {len(points) - 10} more in the full review")
    text = "\n".join(lines)
    return text if len(text) <= _TEXT_MAX else text[: _TEXT_MAX - 1] + "…"


def publish(ws: Workspace, review: Review, *, out: Path | None, send: bool) -> Published:
    """Record the review as held (the caller wrote ``out``) and, with ``send``, deliver it where configured."""
    journal = ws.journal(ws.new_run_id(), REVIEW_RUNBOOK, None)
    deliveries: tuple[DeliveryResult, ...] = ()
    wanted: tuple[str, ...] = ()
    if send:
        from opsctl.notify import configured_channels
        from opsctl.notify import send as dispatch

        ctx = ws.context(journal, None)
        wanted = tuple(c for c in CHANNELS if c in configured_channels(ctx))
        if wanted:
            data = {"summary": review.title, "run": journal.run, "period": review.period.label, "kind": review.kind}
            deliveries = tuple(dispatch(ctx, EVENT, data, text=digest(review), channels=wanted))
    sent = [d.channel for d in deliveries if d.ok]
    journal.event(
        REVIEW_STEP,
        "held",
        kind=review.kind,
        period=review.period.label,
        start=review.period.as_dict()["start"],
        end=review.period.as_dict()["end"],
        out=str(out) if out else None,
        sent=sent,
        summary=f"{review.kind} review {review.period.label} held" + (f", sent to {', '.join(sent)}" if sent else ""),
    )
    ws.run_finished(journal.run)
    return Published(journal.run, out, deliveries, wanted)
