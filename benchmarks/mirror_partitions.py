"""Benchmark: `opsctl report --remote --since 30d` against 1,000 to 100,000 run objects in moto S3.

The window always holds the same 600 runs (20 a day for 30 days); older
history grows behind it. Two bucket layouts hold the same runs:

* ``flat`` (before): ``runs/<run>.<log>.jsonl``, and ``report --remote`` read
  every run object (what it did before the partitions);
* ``partitioned`` (now): ``runs/YYYY/MM/DD/<run>.<log>.jsonl``; the report
  lists the flat folder after the window's start and the window's month
  partitions, and reads only their objects.

Both are timed through the real code (``RemoteStore`` + ``merged_events`` +
``report_from_events``), warm: every object the report reads is already in
the local cache, so the figures are listing and reading, not downloads (the
cold partitioned run downloads the window's 600 objects once; it is shown too).
Objects are put straight into moto's in-process backend (uploading 100,000
over HTTP would take minutes and time nothing of opsctl's).

Note on moto: its ListObjectsV2 filters every key of the bucket on each
request, so in moto even a listing of one month costs more as the bucket
grows (about 0.1 s per request at 100,000 keys); S3 indexes keys by prefix.
The column that shows the design is ``objects read``: constant for the partitions.

    python benchmarks/mirror_partitions.py [--history 1000,10000,100000] [--skip-flat-above 100000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opsctl.audit.line import GENESIS, encode_event
from opsctl.audit.mirror.layout import flat_run_key, run_key

LOG = "0123456789abcdef"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WINDOW_DAYS = 30
PER_DAY = 20


def run_body(run: str, at: datetime, seq: int) -> bytes:
    lines, prev = [], GENESIS
    for n, (step, status) in enumerate((("run", "started"), ("rollout", "passed"), ("run", "succeeded"))):
        fields = {
            "seq": seq + n,
            "ts": (at + timedelta(seconds=n * 40)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "run": run,
            "runbook": "deploy",
            "env": "production",
            "actor": "eng@example.com",
            "step": step,
            "status": status,
            "attempted": {"id": run, "image": "hvb:1.8.0"} if status == "succeeded" else None,
            "release_after": {"id": run, "image": "hvb:1.8.0"} if status == "succeeded" else None,
            "verified": status == "succeeded",
        }
        line, prev = encode_event(fields, prev)
        lines.append(line)
    return b"".join(lines)


def runs(count: int, newest: datetime) -> list[tuple[str, datetime]]:
    """``count`` runs at PER_DAY a day, ending at ``newest``, oldest first."""
    gap = timedelta(days=1) / PER_DAY
    return [(f"r{(at := newest - gap * i):%Y%m%d-%H%M%S}-{i:06x}", at) for i in reversed(range(count))]


class Buckets:
    """Two buckets (flat, partitioned) in moto's backend, filled behind the HTTP server's back."""

    def __init__(self, endpoint: str) -> None:
        import boto3
        from moto.s3.models import s3_backends

        self.endpoint = endpoint
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1")
        for name in ("flat", "partitioned"):
            s3.create_bucket(Bucket=f"hvb-{name}", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.backend = s3_backends["123456789012"]["aws"]
        self.bodies: dict[str, bytes] = {}

    def add(self, batch: list[tuple[str, datetime]]) -> None:
        for run, at in batch:
            body = run_body(run, at, 3 * len(self.bodies) + 1)
            self.bodies[run] = body
            self.backend.put_object("hvb-flat", flat_run_key("opsctl/", run, LOG), body)
            self.backend.put_object("hvb-partitioned", run_key("opsctl/", run, LOG), body)

    def store(self, layout: str, cache: Path) -> Any:
        from opsctl.audit.mirror.remote import RemoteStore
        from opsctl.config import S3Audit

        config = S3Audit(bucket=f"hvb-{layout}", region="eu-west-1", endpoint_url=self.endpoint)
        store = RemoteStore(config, cache)
        store.today = NOW.date
        return store


def warm(cache: Path, bodies: dict[str, bytes]) -> None:
    """The cache as a finished earlier report leaves it (MD5-named objects, as RemoteStore keeps them)."""
    folder = cache / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    for run, body in bodies.items():
        (folder / f"{run}.{LOG}.jsonl").write_bytes(body)


def report(store: Any, local: Path, since_run: str | None) -> tuple[float, int, int, int]:
    """Seconds, LIST requests, objects read, deploys counted for one ``report --remote --since 30d``."""
    from opsctl.audit.query import merged_events
    from opsctl.kpis.figures import MARKS, report_from_events

    lists = 0
    original = store.bucket.list

    def counting(prefix: str, start_after: str | None = None, *, flat: bool = False) -> Any:
        nonlocal lists
        lists += 1  # one listing (of one or more pages)
        return original(prefix, start_after, flat=flat)

    store.bucket.list = counting
    fetched = 0
    fetch = store._fetch

    def counted(wanted: list[Any]) -> Any:
        nonlocal fetched
        fetched += len(wanted)
        return fetch(wanted)

    store._fetch = counted
    started = time.perf_counter()
    result = report_from_events(
        merged_events(store, local, marks=MARKS, since_run=since_run), now=NOW, since_s=WINDOW_DAYS * 86400.0
    )
    return time.perf_counter() - started, lists, fetched, result.total.deploys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", default="1000,10000,100000", help="total run objects, comma-separated")
    parser.add_argument("--skip-flat-above", type=int, default=100_000, help="skip the flat layout above this")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-1")
    from opsctl.audit.query import run_id_floor
    from opsctl.sandbox.aws import MotoSandbox

    sandbox = MotoSandbox()
    endpoint = sandbox.start()
    window = runs(WINDOW_DAYS * PER_DAY, NOW - timedelta(minutes=5))
    floor = run_id_floor(NOW - timedelta(days=WINDOW_DAYS))
    rows = []
    try:
        buckets = Buckets(endpoint)
        buckets.add(window)
        oldest = window[0][1]
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "audit.jsonl"  # this host's log: empty, everything comes from the mirror
            for total in sorted(int(n) for n in args.history.split(",")):
                older = runs(total - len(buckets.bodies), oldest - timedelta(hours=1))
                buckets.add(older)
                if older:
                    oldest = older[0][1]
                cold_cache = Path(tmp) / f"cold-{total}"
                cold = report(buckets.store("partitioned", cold_cache), local, floor)
                hot = report(buckets.store("partitioned", cold_cache), local, floor)
                flat = None
                if total <= args.skip_flat_above:
                    cache = Path(tmp) / f"flat-{total}"
                    warm(cache, buckets.bodies)
                    flat = report(buckets.store("flat", cache), local, None)
                rows.append((total, cold, hot, flat))
                print(_row(total, cold, hot, flat), flush=True)
    finally:
        sandbox.stop()
    return 0


def _row(total: int, cold: tuple[float, int, int, int], hot: tuple[float, int, int, int], flat: Any) -> str:
    before = f"{flat[0]:7.2f}s, {flat[2]:>7,} objects read, {flat[3]} deploys" if flat else "(skipped)"
    return (
        f"{total:>7,} run objects | partitioned cold {cold[0]:6.2f}s, warm {hot[0]:6.2f}s, "
        f"{hot[1]} listings, {hot[2]:>4} objects read, {hot[3]} deploys | before (flat, read all): {before}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
