"""Benchmark: history commands on a large audit log against the same commands on an empty one (issue 19).

Writes two projects with ``make_log.py`` (the same config; one log of about
N events over two years, one without events), starts moto server on
127.0.0.1 with the ECS services the configs name (``status`` reads the
platform), then runs each command as its own process, rounds interleaved
between the two projects, and records wall time and peak RSS (``wait4``).

Targets at 1,000,000 events: each of ``status staging``, ``runs``,
``releases staging``, ``incident list`` and ``report --since 30d`` within
0.3 s of its time on the empty log (the report within 0.5 s), peak RSS
<= 120 MiB. The index is built first (``opsctl audit reindex``, timed and
reported apart: what the first command pays after the index was deleted).

Run: python benchmarks/history_scale.py [--events N] [--rounds R] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from make_log import write, write_config  # type: ignore[import-not-found]  # a sibling script

from opsctl.sandbox.aws import MotoSandbox, create_ecs_service, sandbox_variables

COMMANDS = (
    (("status", "staging"), 0.3),
    (("runs",), 0.3),
    (("releases", "staging"), 0.3),
    (("incident", "list"), 0.3),
    (("report", "--since", "30d"), 0.5),
)
RSS_LIMIT_MIB = 120


# A small process starts each command and reports its peak RSS: a child forked from this one (holding moto
# and the generator's data) would report this process's RSS at the fork as its own peak.
LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.posix_spawn(sys.executable, [sys.executable, "-m", "opsctl", *sys.argv[1:]], os.environ)
_, status, usage = os.wait4(pid, 0)
cpu = usage.ru_utime + usage.ru_stime
print(time.perf_counter() - started, cpu, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run(project: Path, args: tuple[str, ...], env: dict[str, str]) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MiB, exit code) of ``opsctl ARGS`` run in ``project``."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args], cwd=project, env=env, capture_output=True, text=True, check=True
    )
    wall, cpu, rss, code = done.stdout.split()[-4:]
    return float(wall), float(cpu), int(rss) / 1024, int(code)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--work", type=Path, help="folder for the two projects (default: a temporary one)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="opsctl-history-"))
    moto = MotoSandbox()
    endpoint = moto.start()
    try:
        for env in ("staging", "production", "development"):
            create_ecs_service(endpoint, image="hvb:1.0.0", cluster=f"hvb-{env}")
        big, empty = work / f"log-{args.events}", work / "log-empty"
        log = big / ".opsctl" / "audit.jsonl"
        if log.exists():  # a project from an earlier run (--work): only its endpoint changes
            write_config(big, args.events, endpoint)
        else:
            started = time.perf_counter()
            written = write(big, args.events, _now(), 19, endpoint)
            print(
                f"wrote {written:,} events ({log.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - started:.1f}s"
            )
        write(empty, 1, _now(), 19, endpoint)
        (empty / ".opsctl" / "audit.jsonl").write_bytes(b"")
        env = {**os.environ, **sandbox_variables(endpoint), "COLUMNS": "120", "NO_COLOR": "1"}
        env.pop("OPSCTL_CONFIG", None)
        wall, cpu, rss, code = run(big, ("audit", "reindex"), env)
        print(
            f"index built from scratch (opsctl audit reindex): {wall:.2f}s ({cpu:.2f}s CPU), {rss:.0f} MiB, exit {code}"
        )
        print(
            f"\n| command | empty log | {args.events:,} events | difference (wall) | difference (CPU) | "
            "peak RSS | target |"
        )
        print("|---|---|---|---|---|---|---|")
        failed = False
        for command, allowed in COMMANDS:
            walls: dict[Path, list[float]] = {empty: [], big: []}
            cpus: dict[Path, list[float]] = {empty: [], big: []}
            peak = 0.0
            for _ in range(args.rounds):
                for project in (empty, big):
                    wall, cpu, rss, code = run(project, command, env)
                    if code != 0:
                        print(f"opsctl {' '.join(command)} exited {code} in {project}", file=sys.stderr)
                        return 2
                    walls[project].append(wall)
                    cpus[project].append(cpu)
                    peak = max(peak, rss) if project is big else peak
            base, large = statistics.median(walls[empty]), statistics.median(walls[big])
            cpu_delta = statistics.median(cpus[big]) - statistics.median(cpus[empty])
            ok = large - base <= allowed and peak <= RSS_LIMIT_MIB
            failed |= not ok
            verdict = "met" if ok else "MISSED"
            print(f"| `{' '.join(command)}` | {base:.3f}s | {large:.3f}s | {large - base:+.3f}s | {cpu_delta:+.3f}s "
                  f"| {peak:.0f} MiB | <= +{allowed}s, <= {RSS_LIMIT_MIB} MiB: {verdict} |")  # fmt: skip
        return 1 if failed else 0
    finally:
        moto.stop()


def _now() -> datetime:
    return datetime.now(UTC)


if __name__ == "__main__":
    raise SystemExit(main())
