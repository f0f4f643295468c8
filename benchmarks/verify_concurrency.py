"""Concurrent version probes: 20 probes of a bot answering in 200 ms take at most 3x one probe.

Runs the real probe code (:func:`opsctl.health.probes.check_version`) against
the sandbox bot on 127.0.0.1, in one process: first a single probe, then 20
probes with the default bound of 10 at a time (two waves), each on its own
connection as in ``health.version``. Prints the figures and the ratio; exits 1
when the ratio is above 3.

    /work/venv/bin/python benchmarks/verify_concurrency.py
"""

from __future__ import annotations

import statistics
import sys
import time

from opsctl.health.client import HealthClient
from opsctl.health.probes import check_version
from opsctl.sandbox.bot import BotServer

LATENCY = 0.2
PROBES = 20
CONCURRENCY = 10  # VersionParams.concurrency's default
ROUNDS = 3
LIMIT = 3.0


def timed(url: str, probes: int) -> float:
    with HealthClient(url, timeout=5.0, max_connections=CONCURRENCY, keepalive=False) as client:
        started = time.perf_counter()
        outcome = check_version(client, "/health", "1.8.0", probes=probes, concurrency=CONCURRENCY)
        elapsed = time.perf_counter() - started
    if not outcome.ok:
        raise SystemExit(f"probe failed: {outcome.summary}")
    return elapsed


def main() -> int:
    with BotServer(version="1.8.0") as bot:
        bot.configure(latency=LATENCY)
        timed(bot.url, 1)  # warm-up: imports, first thread pool
        single = statistics.median(timed(bot.url, 1) for _ in range(ROUNDS))
        many = statistics.median(timed(bot.url, PROBES) for _ in range(ROUNDS))
    ratio = many / single
    rows = [
        ("bot latency", f"{LATENCY * 1000:.0f} ms"),
        ("1 probe", f"{single * 1000:.0f} ms (median of {ROUNDS})"),
        (f"{PROBES} probes, <= {CONCURRENCY} at once", f"{many * 1000:.0f} ms (median of {ROUNDS})"),
        ("ratio", f"{ratio:.2f} (limit {LIMIT:.0f})"),
    ]
    for label, value in rows:
        print(f"{label:<28}{value}")
    return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
