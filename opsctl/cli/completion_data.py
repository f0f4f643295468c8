"""What shell completion offers, read cheaply: names from opsctl.yaml, recent ids from the audit log.

A completion runs on every Tab press, so it must answer in a blink and never
fail: opsctl.yaml is read as plain YAML (not validated: pydantic alone costs
more than a Tab press should), checklist and runbook names are file names, and
the audit log is asked through its SQLite index when one exists
(:func:`opsctl.audit.index.ask`), else only its last :data:`TAIL_BYTES` are
read. Nothing here imports boto3, httpx, git, jinja2 or Rich. Any problem
means "nothing to offer": a broken config must not break the shell.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_NAME = "opsctl.yaml"  # as opsctl.config.base.CONFIG_NAME (importing that loads pydantic)
TAIL_BYTES = 2 << 20  # without an index: the log's last 2 MiB (thousands of runs) are read, no more
RUN_MARK = b'"step":"run"'  # as opsctl.audit.query.summary.RUN_MARK
INCIDENT_MARK = b'"incident":"'  # as opsctl.incidents.store.INCIDENT_MARK
INDEX_WAIT = 0.3  # seconds a completion waits for another process updating the index


@dataclass(frozen=True)
class Project:
    """An opsctl.yaml as plain data: where it is and what it says (unchecked)."""

    path: Path
    data: dict[str, Any]

    @property
    def environments(self) -> list[str]:
        envs = self.data.get("environments")
        return [str(name) for name in envs] if isinstance(envs, dict) else []

    @property
    def audit_log(self) -> Path:
        state_dir = self.data.get("state_dir")
        return self.path.parent / (state_dir if isinstance(state_dir, str) and state_dir else ".opsctl") / "audit.jsonl"


@dataclass(frozen=True)
class RunRow:
    """A run, as completion describes it."""

    run: str
    runbook: str
    env: str
    status: str
    started: str
    release: str | None  # the id of the release the run left running
    image: str | None


@dataclass(frozen=True)
class IncidentRow:
    id: str
    title: str
    severity: str
    resolved: bool


def typed_words() -> list[str]:
    """The words of the command line being completed, after the program's name.

    From the variables Typer's shell scripts set: ``_TYPER_COMPLETE_ARGS``
    (zsh, fish, PowerShell) or ``COMP_WORDS`` (bash).
    """
    import shlex

    raw = os.environ.get("_TYPER_COMPLETE_ARGS") or os.environ.get("COMP_WORDS") or ""
    try:
        words = shlex.split(raw)
    except ValueError:  # an open quote: the word being typed
        words = raw.split()
    return words[1:]


def config_from_args(args: Sequence[str]) -> str | None:
    """The ``--config``/``-c`` value among the words typed so far (before or after the command)."""
    found = None
    for i, word in enumerate(args):
        if word.startswith("--config="):
            found = word.partition("=")[2]
        elif word in ("--config", "-c") and i + 1 < len(args):
            found = args[i + 1]
    return found


def find_project(explicit: str | None, cwd: Path | None = None) -> Project | None:
    """The project ``opsctl`` would use (``--config``, OPSCTL_CONFIG, else upwards); None when there is none."""
    import yaml

    given = explicit or os.environ.get("OPSCTL_CONFIG") or None
    try:
        if given:
            path = Path(given).expanduser()
        else:
            here = (cwd or Path.cwd()).resolve()
            found = [d / CONFIG_NAME for d in (here, *here.parents) if (d / CONFIG_NAME).is_file()]
            if not found:
                return None
            path = found[0]
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except (OSError, ValueError, yaml.YAMLError):
        return None
    return Project(path.absolute(), data) if isinstance(data, dict) else None


def builtin_dir(kind: str) -> Path:
    """As :func:`opsctl.engine.loader.builtin_dir` (which loads pydantic): the wheel's copy, else the checkout's."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "builtin" / kind
    return packaged if packaged.is_dir() else package.parent / kind


def file_names(kind: str, project: Project | None) -> list[str]:
    """Checklist or runbook names: the built-ins and the project's own (``kind``: checklists or runbooks)."""
    folders = [builtin_dir(kind)] + ([project.path.parent / kind] if project is not None else [])
    names: set[str] = set()
    for folder in folders:
        try:
            names.update(path.stem for path in folder.glob("*.yaml") if not path.stem.startswith("."))
        except OSError:
            continue
    return sorted(names)


def recent_runs(log: Path, *, env: str | None = None, limit: int = 200) -> list[RunRow]:
    """The newest runs (of ``env``), newest first."""
    from opsctl.audit.query.summary import RunSummary, summarize

    def ask(index: Any) -> list[RunSummary]:
        return list(index.runs(env, last=limit))

    summaries = _from_index(log, ask)
    if summaries is None:
        summaries = [s for s in summarize(_tail_events(log, RUN_MARK)) if env is None or s.env == env][-limit:]
    return [_row(s) for s in reversed(summaries)]


def recent_incidents(log: Path, *, limit: int = 2000) -> list[IncidentRow]:
    """Incidents opened in the newest ``limit`` incident lines, newest first."""

    def ask(index: Any) -> list[dict[str, Any]]:
        spans = index.marked([INCIDENT_MARK]) or []
        return list(index.events(spans[-limit:]))

    events = _from_index(log, ask)
    found: dict[str, IncidentRow] = {}
    for event in events if events is not None else _tail_events(log, INCIDENT_MARK):
        if event.get("step") != "incident":
            continue
        key = str(event.get("incident") or "")
        if event.get("status") == "opened":
            found[key] = IncidentRow(key, str(event.get("title") or ""), str(event.get("severity") or "?"), False)
        elif event.get("status") == "resolved" and key in found:
            found[key] = IncidentRow(key, found[key].title, found[key].severity, True)
    return list(reversed(found.values()))


def _row(summary: Any) -> RunRow:
    after = summary.release_after if isinstance(summary.release_after, dict) else {}
    release = str(after["id"]) if after.get("id") else None
    return RunRow(summary.run, summary.runbook, summary.env, summary.status, summary.started, release, summary.image)


def _from_index(log: Path, question: Any) -> Any:
    """The index's answer, when an index exists (building one from a large log is no job for a Tab press)."""
    from opsctl.audit.index import INDEX_NAME, ask

    if not (log.parent / INDEX_NAME).is_file():
        return None
    answer = ask(log, question, wait=INDEX_WAIT)
    return None if answer is None else answer[0]


def _tail_events(log: Path, mark: bytes) -> Iterable[dict[str, Any]]:
    """Events on the whole lines of the log's last :data:`TAIL_BYTES` that hold ``mark``, oldest first."""
    try:
        with log.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(0, size - TAIL_BYTES)
            handle.seek(start)
            data = handle.read(size - start)
    except OSError:
        return []
    lines = data.split(b"\n")
    if start > 0:
        lines = lines[1:]  # cut in the middle: not a whole line
    events = []
    for line in lines:
        if mark not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events
