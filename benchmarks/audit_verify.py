"""How fast `AuditLog.verify()` checks a long log (DESIGN section 5).

Writes N chained events with `encode_event` directly (no fsync per event, so
setup is quick), then times `verify()` and prints events per second.
Target: >= 200,000 events/s.

    python benchmarks/audit_verify.py [--events 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from opsctl.audit.line import GENESIS, encode_event
from opsctl.audit.log import AuditLog

TARGET = 200_000


def write_log(path: Path, count: int) -> None:
    """A realistic log: run, step and summary fields like a deploy writes them."""
    prev = GENESIS
    chunks: list[bytes] = []
    for seq in range(1, count + 1):
        fields = {
            "seq": seq,
            "ts": "2026-11-27T10:00:00.000Z",
            "run": f"r20261127-100000-{seq // 40:06x}",
            "runbook": "deploy",
            "env": "production",
            "actor": "oncall@example.com",
            "step": f"pre-deploy/item-{seq % 12}",
            "status": "passed",
            "summary": "HTTP 200 in 41ms",
            "detail": {"url": "https://hvb.example.com/health", "status": 200},
        }
        line, prev = encode_event(fields, prev)
        chunks.append(line)
    path.write_bytes(b"".join(chunks))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events in the log (default 200,000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed verifications; the best is reported")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.jsonl"
        started = time.perf_counter()
        write_log(path, args.events)
        written = time.perf_counter() - started
        log = AuditLog(path)
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = log.verify()
            timings.append(time.perf_counter() - started)
            if not result.ok or result.events != args.events:
                raise SystemExit(f"verify failed: {result.message}")
        size_mb = path.stat().st_size / 1e6

    best = min(timings)
    rate = args.events / best
    print(f"events:   {args.events:,} ({size_mb:.1f} MB, written in {written:.1f}s)")
    print(f"verify:   best {best:.3f}s of {args.repeat}, median {sorted(timings)[len(timings) // 2]:.3f}s")
    print(f"rate:     {rate:,.0f} events/s (target >= {TARGET:,}): {'OK' if rate >= TARGET else 'TOO SLOW'}")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
