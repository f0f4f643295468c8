"""What the audit log says about runs and releases (the log is also the run journal).

Each run writes ``step: "run"`` events: ``started`` (with params and the
runbook's digest) and one terminal event (``succeeded``, ``failed``,
``rolled_back``, ``rollback_failed``, ``interrupted``, ``error``) carrying the
releases before and after. Reading only those lines keeps ``status``,
``releases`` and ``report`` fast on large logs.
"""

from __future__ import annotations

import gc
import json
import mmap
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.audit.log import read_events

if TYPE_CHECKING:
    from opsctl.workspace import Workspace

RUN_MARK = b'"step":"run"'
TERMINAL = frozenset(
    {"succeeded", "failed", "rolled_back", "rollback_failed", "interrupted", "error", "needs_human", "passed", "warned"}
)
DEPLOYING = frozenset({"deploy", "rollback", "hot-patch"})


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
    def image(self) -> str | None:
        """The image the run set out to deploy (a rollback: the image it put back)."""
        image = self.params.get("image")
        if image:
            return str(image)
        return str(self.release_after.get("image")) if self.release_after else None

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
    """One summary per run, oldest first, from run-level events."""
    runs: dict[str, RunSummary] = {}
    for event in events:
        if event.get("step") != "run":
            continue
        run_id = str(event.get("run"))
        summary = runs.get(run_id)
        if summary is None:
            summary = runs[run_id] = RunSummary(
                run_id, str(event.get("runbook")), str(event.get("env")), str(event.get("actor")), str(event.get("ts"))
            )
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
    return list(runs.values())


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


def load_runs(audit_path: Path, env: str | None = None) -> list[RunSummary]:
    with collector_paused():
        runs = summarize(matching_events(audit_path, (RUN_MARK,)))
    return [r for r in runs if env is None or r.env == env]


def load_remote_runs(ws: Workspace, env: str | None = None) -> list[RunSummary]:
    """Everyone's runs, from the S3 mirror merged with this host's runs not mirrored yet."""
    from opsctl.audit.mirror.remote import merged_events

    runs = summarize(merged_events(ws, marks=(RUN_MARK,)))
    return [r for r in runs if env is None or r.env == env]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while parsing a large log.

    Parsed events are acyclic dicts and lists, so the collector finds nothing
    to free; but each of its passes walks every object still alive, which on
    a million-event log made reading cost grow faster than the log. Reference
    counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_BLOCK = 4 << 20


def matching_events(audit_path: Path, marks: tuple[bytes, ...]) -> Iterator[dict[str, Any]]:
    """Events whose raw line contains any of ``marks``, oldest first.

    The same events as ``read_events(path, contains=mark)`` for one mark (a
    torn last line, bad JSON and non-objects are skipped), found faster: the
    file is memory-mapped (no copies of it), ``bytes.find`` jumps between
    occurrences so that Python-level work is per matching line rather than
    per line of the log, and each block's matches are parsed in one call.
    This is what keeps ``opsctl report`` fast and linear on a million events.
    """
    if not audit_path.exists():
        return
    with audit_path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return  # mmap refuses empty files
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            end = data.rfind(b"\n") + 1  # a torn last line (no newline yet) is not an event
            pos = 0
            while pos < end:
                # Blocks end at a line's end, so no line is split between two of them.
                stop = data.find(b"\n", min(pos + _BLOCK, end) - 1) + 1
                for event in _decode(_lines_with(data, pos, stop, marks)):
                    if isinstance(event, dict):
                        yield event
                pos = stop


def _decode(lines: list[bytes]) -> list[Any]:
    """Parse a block's lines in one call (a JSON array), line by line only when one of them is bad."""
    if not lines:
        return []
    try:
        batch = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        batch = None
    if batch is not None and len(batch) == len(lines):  # else a damaged line held more than one value
        return list(batch)
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            continue
    return parsed


def _lines_with(data: mmap.mmap, pos: int, end: int, marks: tuple[bytes, ...]) -> list[bytes]:
    """The lines of ``data[pos:end]`` (whole lines) that contain a mark, each once, in file order."""
    starts: dict[int, int] = {}
    for mark in marks:
        at = data.find(mark, pos, end)
        while at != -1:
            start = data.rfind(b"\n", pos, at) + 1 or pos
            stop = data.find(b"\n", at, end) + 1
            starts[start] = stop
            at = data.find(mark, stop, end)  # the rest of this line cannot add another match
    order = sorted(starts) if len(marks) > 1 else starts  # one mark: found in file order already
    return [data[start : starts[start]] for start in order]


def run_events(audit_path: Path, run_id: str) -> list[dict[str, Any]]:
    needle = f'"run":"{run_id}"'.encode()
    return [e for e in read_events(audit_path, contains=needle) if e.get("run") == run_id]


@dataclass(frozen=True)
class ReleaseRecord:
    """A release as the audit log saw it in one environment."""

    id: str
    image: str
    run: str
    when: str
    actor: str
    verdict: str  # verified | failed | rolled back | running


def release_history(runs: list[RunSummary], env: str) -> list[ReleaseRecord]:
    """Releases put in place by deploys, hot-patches and rollbacks, newest first."""
    records = []
    for run in runs:
        if run.env != env or run.runbook not in DEPLOYING:
            continue
        release = run.release_after if run.status == "succeeded" else (run.extra.get("attempted") or run.release_after)
        if not release:
            continue
        if run.status == "succeeded":
            verdict = "verified" if run.verified else "deployed"
        elif run.status in ("rolled_back", "rollback_failed"):
            verdict = "rolled back"
        elif run.status == "running":
            verdict = "running"
        else:
            verdict = "failed"
        records.append(
            ReleaseRecord(
                str(release.get("id")),
                str(release.get("image")),
                run.run,
                run.finished or run.started,
                run.actor,
                verdict,
            )
        )
    return list(reversed(records))


def last_verified(runs: list[RunSummary], env: str, *, exclude_ids: Iterable[str] = ()) -> ReleaseRecord | None:
    """The newest verified release in ``env`` that is not excluded and never failed afterwards."""
    excluded = set(exclude_ids)
    history = release_history(runs, env)
    bad_images = {r.image for r in history if r.verdict in ("failed", "rolled back")}
    for record in history:
        if record.verdict != "verified" or record.id in excluded:
            continue
        # A release verified once but later found broken by a deploy of the same image is no target.
        if record.image in bad_images and _failed_after(history, record):
            continue
        return record
    return None


def _failed_after(history: list[ReleaseRecord], record: ReleaseRecord) -> bool:
    return any(
        r.image == record.image and r.verdict in ("failed", "rolled back") and r.when > record.when for r in history
    )
