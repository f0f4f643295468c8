"""Loading runs from the audit log: ``runs``, ``status``, ``report``, resume and the gates read them here.

What a run is (:class:`RunSummary`, folded from its ``step: "run"`` events)
lives in :mod:`opsctl.audit.query.summary`; this module finds those events.
It asks the audit index (:mod:`opsctl.audit.index`) first, which keeps every
run's summary beside the log so that ``status`` or ``runs`` on a million
events reads a few rows instead of the whole file; when the index cannot
answer (it cannot be written, or another process holds it for long), the
run-level lines of the log itself are read (:data:`RUN_MARK`), with the same
result.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from opsctl.audit.query.read import LogSource, collector_paused, log_path, read_events
from opsctl.audit.query.summary import (
    DEPLOYING,
    RUN_MARK,
    RUN_STATUSES,
    TERMINAL,
    Requested,
    RunSummary,
    first_summary,
    fold,
    release_image,
    summarize,
)

__all__ = [
    "DEPLOYING",
    "RUN_MARK",
    "RUN_STATUSES",
    "TERMINAL",
    "Requested",
    "RunSummary",
    "first_summary",
    "fold",
    "load_runs",
    "newest_first",
    "release_image",
    "summarize",
]


def load_runs(
    source: LogSource,
    env: str | None = None,
    *,
    last: int | None = None,
    runbooks: Collection[str] | None = None,
) -> list[RunSummary]:
    """The runs in the log (only ``env``'s, if given), oldest first: the order computations want.

    ``last``: only the newest that many (still oldest first); ``runbooks``:
    only runs of these runbooks. Both are what the list would hold filtered
    afterwards; asking here lets the index read just those rows.
    """
    from opsctl.audit.index import ask

    found = ask(log_path(source), lambda index: index.runs(env, last=last, runbooks=runbooks))
    if found is not None:
        return found[0]
    with collector_paused():
        runs = summarize(read_events(source, (RUN_MARK,)))
    chosen = [r for r in runs if (env is None or r.env == env) and (runbooks is None or r.runbook in runbooks)]
    return chosen if last is None else chosen[max(0, len(chosen) - last) :]


def newest_first(
    runs: Iterable[RunSummary], *, limit: int | None = None, since: datetime | None = None
) -> list[RunSummary]:
    """Runs for people to read: newest first (as releases are listed), at most ``limit``, started since ``since``."""
    chosen = [r for r in runs if since is None or _started_since(r, since)]
    chosen.reverse()
    return chosen if limit is None else chosen[:limit]


def _started_since(run: RunSummary, since: datetime) -> bool:
    try:
        return run.started_at >= since
    except ValueError:  # a start time opsctl did not write: it cannot be placed in the window
        return False
