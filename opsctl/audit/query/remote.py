"""The team's history: everyone's events from the S3 mirror, merged with this host's not mirrored yet.

The mirror's :class:`~opsctl.audit.mirror.remote.RemoteStore` fetches the run
objects (cached locally); here their lines are decoded like the local log's
and merged with it, each event once (by log id and seq), ordered by time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from opsctl.audit.line import chain_line, decode_line
from opsctl.audit.query.read import LogSource, log_path
from opsctl.audit.query.runs import RUN_MARK, RunSummary, summarize

if TYPE_CHECKING:
    from opsctl.audit.mirror.remote import RemoteStore

_Row = tuple[str, str, int, dict[str, Any]]  # (ts, log id, seq, event): the merge order


def merged_events(
    store: RemoteStore, local: LogSource, *, marks: tuple[bytes, ...] = (), since_run: str | None = None
) -> list[dict[str, Any]]:
    """Everyone's events from ``store``, plus ``local``'s events not mirrored yet; ordered by time.

    ``marks``: only lines containing one of these bytes (a cheap pre-filter, as in ``read_events``);
    ``since_run``: only run objects named after it (see :func:`run_id_floor`).
    """
    from opsctl.audit.mirror.layout import log_id

    seen: set[tuple[str, int]] = set()
    rows: list[_Row] = []
    for obj in store.run_objects(since_run):
        for raw in obj.body.splitlines():
            if not marks or any(mark in raw for mark in marks):
                _add(rows, seen, obj.log, raw)
    local_id: str | None = None
    with contextlib.suppress(FileNotFoundError), log_path(local).open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                continue
            if local_id is None:
                first = chain_line(raw[:-1])
                local_id = log_id(first.hash) if first else None
            if local_id is not None and (not marks or any(mark in raw for mark in marks)):
                _add(rows, seen, local_id, raw[:-1])
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    return [row[3] for row in rows]


def _add(rows: list[_Row], seen: set[tuple[str, int]], log: str, raw: bytes) -> None:
    event = decode_line(raw)
    if event is None or not isinstance(event.get("seq"), int):
        return
    place = (log, int(event["seq"]))
    if place not in seen:
        seen.add(place)
        rows.append((str(event.get("ts", "")), log, place[1], event))


# The windows `runs --remote` / `releases --remote` widen through (days) before reading the whole history.
NEWEST_WINDOWS = (31, 124, 496)


def load_remote_runs(
    store: RemoteStore,
    local: LogSource,
    env: str | None = None,
    *,
    last: int | None = None,
    runbooks: Collection[str] | None = None,
    now: datetime | None = None,
) -> list[RunSummary]:
    """Everyone's runs (only ``env``'s, of ``runbooks``, if given), oldest first: the mirror's merged with ``local``'s.

    ``last``: only the newest that many. Their runs are looked for in the
    mirror's day partitions of the last month first, then of wider windows,
    and only when those hold too few in the whole history, so the newest 20
    runs cost the same whatever lies behind them.
    """

    def wanted(runs: list[RunSummary]) -> list[RunSummary]:
        return [r for r in runs if (env is None or r.env == env) and (runbooks is None or r.runbook in runbooks)]

    if last is not None:
        moment = now or datetime.now(UTC)
        for days in NEWEST_WINDOWS:
            floor = run_id_floor(moment - timedelta(days=days))
            found = wanted(summarize(merged_events(store, local, marks=(RUN_MARK,), since_run=floor)))
            # Runs of this host's log older than the window are in `found` too: only the window's count.
            if sum(r.run >= floor for r in found) >= last:
                return found[len(found) - last :]
    found = wanted(summarize(merged_events(store, local, marks=(RUN_MARK,))))
    return found if last is None else found[max(0, len(found) - last) :]


def run_id_floor(moment: datetime) -> str:
    """A run-id-shaped bound for listing runs from a day before ``moment`` on (a run may last that long)."""
    # Run ids are ``r<UTC start>-<random>`` (Workspace.new_run_id), so key order is time order.
    return (moment.astimezone(UTC) - timedelta(days=1)).strftime("r%Y%m%d-%H%M%S")
