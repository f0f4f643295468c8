"""Several opsctl processes appending at once keep one valid chain (flock + one write per line)."""

from __future__ import annotations

import itertools
import json
import multiprocessing
from pathlib import Path

from opsctl.audit.log import AuditLog

WRITERS = 4
EVENTS = 50


def _writer(path: str, writer: int, start: multiprocessing.synchronize.Barrier) -> None:
    log = AuditLog(Path(path))
    start.wait(30)  # all writers begin together, so that they contend for the lock
    for n in range(EVENTS):
        log.append(
            {
                "run": f"w{writer}",
                "runbook": "load",
                "env": "staging",
                "actor": "t",
                "step": f"e{n}",
                "status": "passed",
                "summary": "x" * (n * 37 % 400),
            }
        )


def test_concurrent_appends_from_several_processes_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "state" / "audit.jsonl"
    context = multiprocessing.get_context("spawn")  # no inherited threads or locks from the test process
    start = context.Barrier(WRITERS)
    workers = [context.Process(target=_writer, args=(str(path), w, start)) for w in range(WRITERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * WRITERS

    result = AuditLog(path).verify()
    assert result.ok, result.message
    assert result.events == WRITERS * EVENTS
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["seq"] for e in events] == list(range(1, WRITERS * EVENTS + 1))
    for w in range(WRITERS):  # each writer's events are in its own order
        assert [e["step"] for e in events if e["run"] == f"w{w}"] == [f"e{n}" for n in range(EVENTS)]
    runs = [e["run"] for e in events]
    switches = sum(1 for a, b in itertools.pairwise(runs) if a != b)
    assert switches > WRITERS  # the writers really interleaved
