"""How fast `opsctl --help` starts, against the floor of importing typer (STYLE 8).

Runs `python -m opsctl --help` and `python -c "import typer"` alternately, many
times, in fresh interpreters, and prints the medians and their ratio.
Target: opsctl --help <= 1.5x import typer.

    python benchmarks/startup.py [--runs 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = 1.5
# Byte code cached as an installed package has it (pip compiles on install), outside the checkout:
# with PYTHONDONTWRITEBYTECODE set, every run would compile opsctl's sources again.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "opsctl-bench-pycache")


def _time(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=ENV)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="runs of each command (default 40)")
    args = parser.parse_args()

    help_cmd = [sys.executable, "-m", "opsctl", "--help"]
    typer_cmd = [sys.executable, "-c", "import typer"]
    for argv in (help_cmd, typer_cmd):  # warm the OS file cache and .pyc files
        _time(argv)
    help_times: list[float] = []
    typer_times: list[float] = []
    for _ in range(args.runs):  # alternate, so that a busy moment hits both alike
        help_times.append(_time(help_cmd))
        typer_times.append(_time(typer_cmd))

    help_median = statistics.median(help_times)
    typer_median = statistics.median(typer_times)
    ratio = help_median / typer_median
    print(f"runs:                 {args.runs} each")
    print(f"opsctl --help median: {help_median * 1000:.1f} ms (min {min(help_times) * 1000:.1f} ms)")
    print(f"import typer median:  {typer_median * 1000:.1f} ms (min {min(typer_times) * 1000:.1f} ms)")
    print(f"ratio:                {ratio:.2f}x (target <= {TARGET}x): {'OK' if ratio <= TARGET else 'TOO SLOW'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
