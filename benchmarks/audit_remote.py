"""Benchmark: `opsctl audit verify --remote` over 10,000 run objects on moto server.

Builds what a team's bucket holds after 10,000 runs: a local audit log of
10,000 runs x 6 events (chained with ``encode_event``), one run object per run
and one chained checkpoint per run (Ed25519-signed with ``--sign``), uploaded
concurrently. moto runs as its own process so that its request handling does
not share this process's GIL with the client threads. Then it times, through
the real code paths:

* ``verify_remote`` cold: list + download every run object and checkpoint;
* ``verify_remote`` warm: list only, bodies from the MD5-checked local cache;
* ``load_remote_runs`` warm (what ``opsctl runs --remote`` does).

    python benchmarks/audit_remote.py [--runs 10000] [--events-per-run 6] [--sign]
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from opsctl.audit.line import GENESIS, encode_event
from opsctl.audit.mirror.checkpoint import Checkpoint, object_hash, signed_message
from opsctl.audit.mirror.layout import checkpoint_key, run_key

BUCKET = "hvb-audit"
PREFIX = "opsctl/"
KEY_ENV = "OPSCTL_BENCH_AUDIT_KEY"


@contextmanager
def moto_process() -> Iterator[str]:
    """A moto server in its own process on a free port; yields its endpoint URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):  # noqa: S310 - a local test server
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def build_log(runs: int, per_run: int) -> tuple[bytes, dict[str, list[bytes]], list[tuple[str, int, str]]]:
    """The local log, each run's lines, and (run, last seq, head) after each run."""
    prev, seq = GENESIS, 0
    lines: dict[str, list[bytes]] = {}
    heads = []
    for n in range(runs):
        day, rest = divmod(n, 86400 // 60)  # one run a minute
        run = f"r202611{1 + day % 28:02d}-{rest // 60:02d}{rest % 60:02d}00-{n:06x}"
        for step in range(per_run):
            seq += 1
            fields = {
                "seq": seq,
                "ts": f"2026-11-{1 + day % 28:02d}T{rest // 60:02d}:{rest % 60:02d}:{step:02d}.000Z",
                "run": run,
                "runbook": "deploy",
                "env": "production",
                "actor": f"eng{n % 25}@example.com",
                "step": "run" if step in (0, per_run - 1) else f"step-{step}",
                "status": "started" if step == 0 else "succeeded" if step == per_run - 1 else "passed",
                "caller_arn": f"arn:aws:sts::123456789012:assumed-role/deployer/eng{n % 25}",
                "summary": "HTTP 200 in 41ms",
            }
            line, prev = encode_event(fields, prev)
            lines.setdefault(run, []).append(line)
        heads.append((run, seq, prev))
    whole = b"".join(line for run_lines in lines.values() for line in run_lines)
    return whole, lines, heads


def upload(s3: Any, lines: dict[str, list[bytes]], heads: list[tuple[str, int, str]], signer: Any) -> tuple[str, float]:
    """Put every run object and checkpoint (10 threads); returns the log id and seconds taken."""
    log = next(iter(lines.values()))[0].rsplit(b'"hash":"', 1)[1][:16].decode()
    objects: list[tuple[str, bytes]] = [(run_key(PREFIX, run, log), b"".join(body)) for run, body in lines.items()]
    previous = GENESIS
    for run, seq, head in heads:
        checkpoint = Checkpoint(
            log, run, seq, head, previous, "2026-11-27T00:00:00.000Z", "bench@example.com", "bench", (run,)
        )
        if signer is not None:
            checkpoint = checkpoint.signed(signer.block(signed_message(checkpoint)))
        data = checkpoint.to_bytes()
        previous = object_hash(data)
        objects.append((checkpoint_key(PREFIX, log, seq), data))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda item: s3.put_object(Bucket=BUCKET, Key=item[0], Body=item[1]), objects))
    return log, time.perf_counter() - started


def counting_gets() -> list[str]:
    """Record every GetObject the mirror's reader makes (the keys, in a list)."""
    from opsctl.audit.mirror.s3 import Bucket

    seen: list[str] = []
    original = Bucket.get

    def get(self: Bucket, key: str) -> bytes:
        seen.append(key)
        return original(self, key)

    Bucket.get = get  # type: ignore[method-assign]
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="run objects (default 10,000)")
    parser.add_argument("--events-per-run", type=int, default=6, help="events per run (default 6)")
    parser.add_argument("--sign", action="store_true", help="Ed25519-sign the checkpoints and verify them")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-1")

    import boto3

    from opsctl.audit.mirror import remote, verify
    from opsctl.audit.mirror.signing import make_signer
    from opsctl.audit.query import load_remote_runs
    from opsctl.workspace import Workspace

    s3_config: dict[str, Any] = {"bucket": BUCKET, "prefix": PREFIX}
    if args.sign:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        os.environ[KEY_ENV] = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
        s3_config["signing_key_env"] = KEY_ENV

    with moto_process() as url, tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        s3_config["endpoint_url"] = url
        config = {
            "service": "hotel-voice-bot",
            "audit": {"s3": s3_config},
            "environments": {"production": {"platform": {"kind": "fly", "app": "hvb"}}},
        }
        (project / "opsctl.yaml").write_text(yaml.safe_dump(config))
        ws = Workspace.load(str(project / "opsctl.yaml"), actor="bench@example.com")
        s3 = boto3.client("s3", endpoint_url=url)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

        started = time.perf_counter()
        whole, lines, heads = build_log(args.runs, args.events_per_run)
        ws.state_dir.mkdir(parents=True, exist_ok=True)
        ws.audit.path.write_bytes(whole)
        built = time.perf_counter() - started
        signer = make_signer(ws.config.audit.s3) if ws.config.audit.s3 else None
        _, put_seconds = upload(s3, lines, heads, signer)
        puts = args.runs * 2
        print(
            f"bucket:   {args.runs:,} run objects + {args.runs:,} checkpoints, {args.runs * args.events_per_run:,} "
            f"events (log built in {built:.1f}s, {puts:,} PUTs in {put_seconds:.1f}s = {puts / put_seconds:,.0f}/s)"
        )

        gets = counting_gets()
        cache = ws.state_dir / "mirror" / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        lists = 2 * -(-args.runs // 1000)  # ListObjectsV2 pages of 1,000 keys: runs/ and checkpoints/
        for label in ("cold", "warm"):
            gets.clear()
            started = time.perf_counter()
            result = verify.verify_remote(ws.mirror_site())
            seconds = time.perf_counter() - started
            if not result.ok:
                print("\n".join(result.problems))
                return 1
            checked = "checked" if result.signatures_checked else "unchecked"
            print(
                f"verify --remote {label}: {seconds:6.2f}s  {2 * args.runs / seconds:8,.0f} objects/s   "
                f"{len(gets):,} GETs + {lists} LIST pages; {result.events:,} events, {result.checkpoints:,} "
                f"checkpoints, {result.signed:,} signed ({checked})"
            )
        started = time.perf_counter()
        runs = load_remote_runs(remote.RemoteStore.for_site(ws.mirror_site()), ws.audit)
        print(f"runs --remote warm:    {time.perf_counter() - started:6.2f}s  ({len(runs):,} runs merged)")
        cache_mb = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) / 1e6
        print(f"cache:    {cache_mb:.1f} MB in {cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
