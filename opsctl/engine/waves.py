"""Run a checklist's automatic items concurrently: in waves ordered by ``needs``, each on a bounded thread pool."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from opsctl.engine.checklist_result import ItemResult
from opsctl.engine.items import PreparedItem


def waves(entries: list[PreparedItem]) -> list[list[PreparedItem]]:
    """Group items so that every item runs after the items it ``needs``."""
    level: dict[str, int] = {}
    for entry in entries:  # needs always point backwards (the loader checks)
        level[entry.item.id] = 1 + max((level.get(n, -1) for n in entry.item.needs), default=-1)
    grouped: dict[int, list[PreparedItem]] = {}
    for entry in entries:
        grouped.setdefault(level[entry.item.id], []).append(entry)
    return [grouped[k] for k in sorted(grouped)]


def run_in_waves(
    entries: list[PreparedItem],
    run_item: Callable[[PreparedItem], ItemResult],
    results: dict[str, ItemResult],
    *,
    concurrency: int,
    cancel: threading.Event,
) -> None:
    """Run ``entries`` wave by wave, at most ``concurrency`` at once, adding each result to ``results``.

    A wave starts when the one before has finished, so an item sees the results
    of the items it needs in ``results``.
    """
    for wave in waves(entries):
        workers = min(concurrency, len(wave))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="opsctl-item")
        try:
            futures = {p.item.id: pool.submit(contextvars.copy_context().run, run_item, p) for p in wave}
            for item_id, future in futures.items():
                results[item_id] = future.result()
        except BaseException:
            # Ctrl-C or bad input: tell running actions to stop and do not wait for them.
            cancel.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
