"""Runs, as the audit log tells them: one :class:`RunSummary` per run id, folded from its run-level events.

Each run writes ``step: "run"`` events: ``started`` (with the request's
``params``, the runbook's digest and ``dry_run``), perhaps ``resumed``, and
one terminal event (``succeeded``, ``failed``, ``rolled_back``,
``rollback_failed``, ``interrupted``, ``error``, ``needs_human``, or a
checklist run's ``passed``/``warned``) carrying the releases before and after.
What a caller needs from those events is a typed attribute here, so no one
else digs keys out of event dicts.

This module reads nothing: :mod:`opsctl.audit.query.runs` loads runs from the
log (through the audit index), and the index (:mod:`opsctl.audit.index`)
folds the same events with :func:`fold`, so both tell a run the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opsctl.audit.line import parse_ts

RUN_MARK = b'"step":"run"'
TERMINAL = frozenset(
    {"succeeded", "failed", "rolled_back", "rollback_failed", "interrupted", "error", "needs_human", "passed", "warned"}
)
# The words a run's (and a release's) status is told in: what `runs` and `releases` both show.
RUN_STATUSES = ("running", *sorted(TERMINAL))
DEPLOYING = frozenset({"deploy", "rollback", "hot-patch"})


@dataclass(frozen=True)
class Requested:
    """What a run was asked to do: the typed view of its ``started`` event's ``params``."""

    image: str | None = None
    to: str | None = None  # a rollback's chosen target release
    reason: str | None = None
    supervisor: str | None = None
    incident: str | None = None

    @classmethod
    def of(cls, params: Any) -> Requested:
        """Read journaled ``params`` (a mapping, or anything else for none)."""
        if not isinstance(params, Mapping):
            return cls()
        return cls(*(_text(params.get(key)) for key in ("image", "to", "reason", "supervisor", "incident")))


def _text(value: Any) -> str | None:
    return str(value) if value else None


def release_image(release: Any) -> str | None:
    """The image of a journaled release (``{"id": ..., "image": ...}``), if it names one."""
    if isinstance(release, Mapping) and release.get("image"):
        return str(release["image"])
    return None


@dataclass
class RunSummary:
    run: str
    runbook: str
    env: str
    actor: str
    started: str
    status: str = "running"
    finished: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    digest: str | None = None
    release_before: dict[str, Any] | None = None
    release_after: dict[str, Any] | None = None
    verified: bool = False
    rolled_back: bool = False
    change_type: str | None = None
    incident: str | None = None
    summary: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False  # from the ``started`` event: a dry run changes nothing

    @property
    def finished_ok(self) -> bool:
        return self.status == "succeeded"

    @property
    def requested(self) -> Requested:
        return Requested.of(self.params)

    @property
    def image(self) -> str | None:
        """The image the run set out to deploy (a rollback: the image it put back)."""
        return self.requested.image or release_image(self.release_after)

    @property
    def attempted(self) -> dict[str, Any] | None:
        """The release the run rolled out, recorded once it reached its rollout (None: stopped before)."""
        attempted = self.extra.get("attempted")
        return attempted if isinstance(attempted, dict) and attempted else None

    @property
    def image_before(self) -> str | None:
        return release_image(self.release_before)

    @property
    def image_after(self) -> str | None:
        """The image the run left running, or tried to (a failed run's attempt), or set out to deploy."""
        return release_image(self.release_after) or release_image(self.attempted) or self.image

    @property
    def supervisor(self) -> str | None:
        return self.requested.supervisor

    @property
    def started_at(self) -> datetime:
        return parse_ts(self.started)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "runbook": self.runbook,
            "env": self.env,
            "actor": self.actor,
            "started": self.started,
            "finished": self.finished,
            "status": self.status,
            "image": self.image,
            "release_before": self.release_before,
            "release_after": self.release_after,
            "verified": self.verified,
            "rolled_back": self.rolled_back,
            "change_type": self.change_type,
            "incident": self.incident,
            "summary": self.summary,
        }


def summarize(events: Iterable[dict[str, Any]]) -> list[RunSummary]:
    """One summary per run, oldest first, from run-level events (other events are ignored)."""
    runs: dict[str, RunSummary] = {}
    for event in events:
        if event.get("step") != "run":
            continue
        run_id = str(event.get("run"))
        summary = runs.get(run_id)
        if summary is None:
            summary = runs[run_id] = first_summary(event)
        fold(summary, event)
    return list(runs.values())


def first_summary(event: dict[str, Any]) -> RunSummary:
    """The summary a run's first run-level event opens (before :func:`fold` applies that event)."""
    return RunSummary(
        str(event.get("run")),
        str(event.get("runbook")),
        str(event.get("env")),
        str(event.get("actor")),
        str(event.get("ts")),
    )


def fold(summary: RunSummary, event: dict[str, Any]) -> None:
    """Apply one run-level event of the run to its summary, in log order (the audit index folds the same way)."""
    status = str(event.get("status"))
    summary.change_type = event.get("change_type", summary.change_type)
    summary.incident = event.get("incident", summary.incident)
    if status in ("started", "resumed"):
        if status == "started":
            summary.params = dict(event.get("params") or {})
            summary.digest = event.get("digest")
            summary.dry_run = bool(event.get("dry_run", False))
        summary.status = "running"
        summary.finished = None
    elif status in TERMINAL:
        summary.status = status
        summary.finished = str(event.get("ts"))
        summary.release_before = event.get("release_before", summary.release_before)
        summary.release_after = event.get("release_after", summary.release_after)
        summary.verified = bool(event.get("verified", False))
        summary.rolled_back = status in ("rolled_back", "rollback_failed")
        summary.summary = str(event.get("summary", ""))
        summary.extra = {k: v for k, v in event.items() if k not in _KNOWN}


_KNOWN = frozenset(
    {
        "seq",
        "ts",
        "run",
        "runbook",
        "env",
        "actor",
        "step",
        "status",
        "prev",
        "hash",
        "summary",
        "release_before",
        "release_after",
        "verified",
        "change_type",
        "incident",
    }
)
