"""How long a run's start-up check of the audit log takes, with and without its cached position.

Writes N chained events (as `audit_verify.py` does), then times
`verify_before_run()` three ways: the first run (no cache: reads the whole
log), a later run after a deploy's worth of new events (cache: reads only the
new lines), and a full `AuditLog.verify()` for comparison. Target: a cached
check under 10 ms on 200,000 events, whatever the log's size.

    python benchmarks/audit_precheck.py [--events 200000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from audit_verify import write_log

from opsctl.audit.log import AuditLog
from opsctl.audit.precheck import CACHE_NAME, verify_before_run

TARGET_MS = 10.0
NEW_EVENTS = 40  # about one deploy's events


def _timed(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events in the log (default 200,000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds; medians are reported")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.jsonl"
        write_log(path, args.events)
        log = AuditLog(path)
        cold, warm, full = [], [], []
        for _ in range(args.repeat):
            (path.parent / CACHE_NAME).unlink(missing_ok=True)
            cold.append(_timed(lambda: verify_before_run(log)))
            for n in range(NEW_EVENTS):
                log.append({"run": "r-bench", "runbook": "deploy", "env": "staging", "actor": "a", "step": str(n)})
            warm.append(_timed(lambda: verify_before_run(log)))
            full.append(_timed(log.verify))
        size_mb = path.stat().st_size / 1e6

    cached_ms = statistics.median(warm) * 1000
    print(f"log:      {args.events:,} events ({size_mb:.1f} MB), +{NEW_EVENTS} new events per round")
    print(f"no cache: median {statistics.median(cold) * 1000:.1f} ms (reads the whole log)")
    print(f"cached:   median {cached_ms:.2f} ms (reads the new lines only; target < {TARGET_MS:.0f} ms)")
    print(f"full:     median {statistics.median(full) * 1000:.1f} ms (`opsctl audit verify`)")
    print("OK" if cached_ms < TARGET_MS else "TOO SLOW")
    return 0 if cached_ms < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
