"""Announced deployment windows, read back from the audit log, and whether one covers a change now.

``opsctl announce`` writes one event per announcement (``runbook: announce``,
``step: window``, ``status: announced``) with the window, the image and note
if given, and the channels that accepted the notice. :func:`judge` is the one
rule, used by the pre-deploy item ``window.announced`` and by the run policy:

- an announcement that reached someone, for this environment, whose window
  covers now (and that names this image, or none) passes;
- an emergency change for an incident passes without one (the item records it);
- without a channel to announce on (email, Slack, webhook) nobody can be
  told: the rule only warns, saying how to configure one;
- otherwise a normal change to a protected environment fails, and anything
  else warns.

With ``audit.hmac_key_env`` only announcements whose line carries a valid
HMAC count, as for the other reads that grant permission
(:mod:`opsctl.audit.evidence`): a line appended by hand does not open a window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from opsctl.audit.line import decode_line, format_ts, line_keyed, parse_ts
from opsctl.audit.query import field_mark, read_events
from opsctl.values.timewindow import Window

if TYPE_CHECKING:
    from opsctl.audit.log import AuditLog
    from opsctl.config import Config

RUNBOOK = "announce"
STEP = "window"
STATUS = "announced"
#: The channels a window is announced on (PagerDuty pages people; it takes no notices).
ANNOUNCE_CHANNELS = ("email", "slack", "webhook")


@dataclass(frozen=True)
class Announcement:
    """One ``opsctl announce``: which window, for what, by whom, and who accepted the notice."""

    env: str
    window: Window
    image: str | None
    note: str | None
    actor: str
    at: datetime
    run: str
    delivered: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "window": self.window.as_dict(),
            "image": self.image,
            "note": self.note,
            "actor": self.actor,
            "at": format_ts(self.at),
            "run": self.run,
            "delivered": list(self.delivered),
        }


def _events(log: AuditLog) -> Iterator[dict[str, Any]]:
    """The events of ``announce`` runs; with a key, only those whose line is keyed."""
    mark = field_mark("runbook", RUNBOOK)
    if log.key is None:
        yield from read_events(log, (mark,))
        return
    secret = log.key.secret()
    if not log.path.exists():
        return
    with log.path.open("rb") as handle:
        for raw in handle:
            if mark in raw and raw.endswith(b"\n") and line_keyed(raw[:-1], secret):
                event = decode_line(raw)
                if event is not None:
                    yield event


def announcements(log: AuditLog, env: str) -> list[Announcement]:
    """Every announcement for ``env``, oldest first (lines that are not well-formed are ignored)."""
    found = []
    for event in _events(log):
        if (event.get("step"), event.get("status"), event.get("env")) != (STEP, STATUS, env):
            continue
        try:
            window = Window(parse_ts(str(event["window_start"])), parse_ts(str(event["window_end"])))
            at = parse_ts(str(event["ts"]))
        except (KeyError, ValueError):
            continue  # not an event opsctl wrote; `audit verify` judges such lines
        delivered = event.get("delivered")
        found.append(
            Announcement(
                env,
                window,
                str(event["image"]) if event.get("image") else None,
                str(event["note"]) if event.get("note") else None,
                str(event.get("actor")),
                at,
                str(event.get("run")),
                tuple(str(c) for c in delivered) if isinstance(delivered, list) else (),
            )
        )
    return found


def announce_channels(config: Config) -> list[str]:
    """The configured channels a window can be announced on."""
    return [name for name in ANNOUNCE_CHANNELS if getattr(config.notify, name) is not None]


@dataclass(frozen=True)
class Verdict:
    """What the window rule says about one change now."""

    status: Literal["passed", "failed", "warned"]
    summary: str
    announcement: Announcement | None = None

    def detail(self, **extra: Any) -> dict[str, Any]:
        return {"announcement": self.announcement.as_dict() if self.announcement else None, **extra}


def _when(moment: datetime) -> str:
    return format_ts(moment)[:16].replace("T", " ") + " UTC"


def judge(
    config: Config,
    log: AuditLog,
    env: str,
    now: datetime,
    *,
    change_type: str = "normal",
    incident: str | None = None,
    image: str | None = None,
) -> Verdict:
    """The window rule for a change of ``change_type`` (and ``image``) to ``env`` at ``now``."""
    every = announcements(log, env)
    covering = [a for a in every if a.window.covers(now)]
    usable = [a for a in covering if a.delivered and (a.image is None or image is None or a.image == image)]
    if usable:
        found = usable[-1]
        what = f" for {found.image}" if found.image else ""
        return Verdict(
            "passed",
            f"window {found.window.text()}{what} announced by {found.actor} at {_when(found.at)} (run {found.run})",
            found,
        )
    if change_type == "emergency" and incident:
        return Verdict("passed", f"emergency change for {incident}: no announced window needed (recorded)")
    channels = announce_channels(config)
    if not channels:
        return Verdict(
            "warned",
            "no channel to announce deployment windows on: add notify: {email: {...}} or {slack: {...}} "
            f"to opsctl.yaml, then `opsctl announce {env} --window START/END`",
        )
    why = _why_not(covering, every, env, now, image)
    hint = f"announce it first: opsctl announce {env} --window START/END"
    protected = config.environment(env).protected
    # An "emergency" without an incident is not one (as for freezes): it is held to the normal rule.
    if protected and (change_type == "normal" or (change_type == "emergency" and not incident)):
        return Verdict("failed", f"{why}; a normal change to protected {env} needs one: {hint}")
    return Verdict("warned", f"{why} (not required here; {hint})")


def _why_not(
    covering: list[Announcement], every: list[Announcement], env: str, now: datetime, image: str | None
) -> str:
    """Why no announcement counts: the nearest miss, in words."""
    for found in reversed(covering):
        if not found.delivered:
            return f"the announcement of {found.window.text()} (run {found.run}) reached nobody"
        if found.image and image and found.image != image:
            return f"the window {found.window.text()} was announced for {found.image}, not {image}"
    upcoming = [a for a in every if a.window.start > now and a.delivered]
    if upcoming:
        soonest = min(upcoming, key=lambda a: a.window.start)
        return f"no announced deployment window for {env} covers {_when(now)} (the next is {soonest.window.text()})"
    return f"no announced deployment window for {env} covers {_when(now)}"
