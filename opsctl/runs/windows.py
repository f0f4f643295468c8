"""Deployment windows: ``opsctl announce`` (tell stakeholders in advance, record it) and the run policy.

:func:`announce_window` checks the window (well-formed, not in the past, at
most 24h), sends the ``window`` notice on every configured channel (email,
Slack, webhook) and records the announcement in the audit log, naming the
channels that accepted it. An announcement that reached nobody is recorded
too, but it does not open the window (:mod:`opsctl.notify.windows`).

:func:`require_window` is the policy the runner enforces for normal changes,
like freezes and approvals: before the first step and again just before the
change (a window may close while the gates run). It holds whatever a
project's own checklists say; the pre-deploy item ``stakeholders`` shows the
same verdict among the gates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput, RunFailed
from opsctl.notify.windows import RUNBOOK, STATUS, STEP, announce_channels, announcements, judge
from opsctl.values.timewindow import EXAMPLE, Window, iso, parse_window

if TYPE_CHECKING:
    from opsctl.engine.context import RunContext
    from opsctl.notify.deliver import DeliveryResult
    from opsctl.workspace import Workspace

# A window may start this long before the command runs (typing it takes a moment); earlier is the past.
START_GRACE = timedelta(minutes=1)
NOTE_MAX = 500


@dataclass(frozen=True)
class Announced:
    """What ``opsctl announce`` did: the window, the run that recorded it, and each delivery."""

    env: str
    window: Window
    zone: str | None
    image: str | None
    note: str | None
    run: str
    updated: bool  # an earlier announcement of the same window was delivered: this one corrects it
    deliveries: tuple[DeliveryResult, ...]

    @property
    def delivered(self) -> list[str]:
        return sorted({d.channel for d in self.deliveries if d.ok})

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "window": {**self.window.as_dict(), "local": self.window.text(self.zone) if self.zone else None},
            "image": self.image,
            "note": self.note,
            "run": self.run,
            "updated": self.updated,
            "delivered": self.delivered,
            "deliveries": [d.as_dict() for d in self.deliveries],
        }


def read_window(text: str, now: datetime, zone: str | None) -> Window:
    """``--window`` as a Window in the future; BadInput (exit 2) with one line otherwise."""
    try:
        window = parse_window(text, now, zone)
    except ValueError as exc:
        raise BadInput(f"--window '{text}': {exc}") from None
    if window.end <= now:
        raise BadInput(f"--window '{text}' is in the past: it ended {window.text()}; announce a window to come")
    if window.start < now - START_GRACE:
        raise BadInput(
            f"--window '{text}' starts in the past ({window.text()}); announce in advance, "
            f"or write now/{window.end.strftime('%H:%M')}Z for a window that begins now"
        )
    return window


def announce_window(
    ws: Workspace,
    env: str,
    window_text: str,
    *,
    image: str | None = None,
    note: str | None = None,
    zone: str | None = None,
) -> Announced:
    """Send the notice of a deployment window and record it; bad input is refused before anything is sent."""
    from opsctl.notify import send
    from opsctl.values.imageref import ImageRef

    ws.config.environment(env)  # an unknown name fails here, listing the known ones
    now = ws.clock()
    window = read_window(window_text, now, zone)
    try:
        shown_image = str(ImageRef.parse(image)) if image else None
    except BadInput as exc:
        raise BadInput(f"--image {exc}") from None
    note = " ".join(note.split()) if note else None
    if note and len(note) > NOTE_MAX:
        raise BadInput(f"--note is {len(note)} characters; keep it under {NOTE_MAX} (link to a plan for more)")
    channels = announce_channels(ws.config)
    if not channels:
        raise BadInput(
            "no channel to announce on: add notify: {email: {...}} or {slack: {webhook_env: ...}} to opsctl.yaml"
        )
    updated = any(a.window == window and a.delivered for a in announcements(ws.audit, env))
    journal = ws.journal(ws.new_run_id(), RUNBOOK, env)
    ctx = ws.context(journal, env)
    fields = {"window_start": iso(window.start), "window_end": iso(window.end), "window_text": window.text(zone)}
    data = {
        "env": env,
        "image_after": shown_image,
        "summary": f"Deployment window {window.text(zone)}",
        "note": note,
        "phase": "updated" if updated else "announced",
        **fields,
    }
    try:
        results = tuple(send(ctx, "window", data, text=note, channels=channels))
        delivered = sorted({r.channel for r in results if r.ok})
        journal.event(
            STEP,
            STATUS,
            **fields,
            image=shown_image,
            note=note,
            delivered=delivered,
            summary=f"deployment window {window.text()} for {env} announced"
            + (f" on {', '.join(delivered)}" if delivered else ", but it reached nobody"),
        )
    finally:
        ws.run_finished(journal.run)
    return Announced(env, window, zone, shown_image, note, journal.run, updated, results)


def require_window(ctx: RunContext, *, journal: bool = True) -> None:
    """The window policy for a normal change: RunFailed (exit 1) when the rule fails.

    ``journal``: record a pass (once per run: not again when rechecked before the change).
    """
    env = ctx.env_name
    if env is None or not ctx.env.protected:
        return
    image = None if ctx.request.image is None else str(ctx.request.image)
    verdict = judge(ctx.config, ctx.journal.log, env, ctx.clock(), change_type="normal", image=image)
    if verdict.status == "failed":
        raise RunFailed(verdict.summary)
    if verdict.status == "passed" and journal:
        ctx.journal.event("policy.window", "passed", summary=verdict.summary)


def window_summary(announced: Announced) -> str:
    """One line for people: what was announced, and where it went."""
    where = ", ".join(announced.delivered) or "nobody"
    verb = "updated" if announced.updated else "announced"
    return f"deployment window for {announced.env} {verb}: {announced.window.text(announced.zone)} (sent to {where})"


__all__ = ["EXAMPLE", "Announced", "announce_window", "read_window", "require_window", "window_summary"]
