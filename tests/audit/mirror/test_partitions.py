"""The mirror's day partitions: keys, both layouts read, and windows that list only their own months."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from opsctl.audit.line import GENESIS, encode_event
from opsctl.audit.mirror.layout import flat_run_key, parse_run_key, run_day, run_key
from opsctl.audit.mirror.remote import RemoteStore, months
from opsctl.audit.mirror.s3 import Bucket
from opsctl.audit.query import load_remote_runs, run_id_floor
from opsctl.config import S3Audit
from tests.support import moto_server as aws_support
from tests.support.moto_server import MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws
BUCKET = "hvb-audit"
LOG = "0123456789abcdef"
TODAY = date(2026, 11, 27)
NOW = datetime.fromisoformat("2026-11-27T10:00:00+00:00")


def test_a_run_goes_to_the_partition_of_its_start_day() -> None:
    assert run_key("opsctl", "r20261127-100000-ab12cd", LOG) == (
        f"opsctl/runs/2026/11/27/r20261127-100000-ab12cd.{LOG}.jsonl"
    )
    assert run_key("", "r20260101-000000-000001", LOG) == f"runs/2026/01/01/r20260101-000000-000001.{LOG}.jsonl"
    # An id without a (valid) date stays in the flat folder, where objects went before the partitions.
    assert run_key("opsctl/", "manual-1", LOG) == f"opsctl/runs/manual-1.{LOG}.jsonl"
    assert run_key("opsctl/", "r20261340-000000-x", LOG) == f"opsctl/runs/r20261340-000000-x.{LOG}.jsonl"
    assert flat_run_key("opsctl/", "r20261127-100000-ab12cd", LOG) == f"opsctl/runs/r20261127-100000-ab12cd.{LOG}.jsonl"
    assert run_day("r20261127-100000-ab12cd") == date(2026, 11, 27)
    assert run_day("r2026112-1") is None


def test_both_layouts_parse_and_nothing_else_does() -> None:
    run = "r20261127-100000-ab12cd"
    assert parse_run_key("opsctl/", run_key("opsctl/", run, LOG)) == (run, LOG)
    assert parse_run_key("opsctl/", flat_run_key("opsctl/", run, LOG)) == (run, LOG)
    for key in (
        f"opsctl/runs/2026/11/{run}.{LOG}.jsonl",  # a month is not a partition
        f"opsctl/runs/2026/11/27/extra/{run}.{LOG}.jsonl",
        f"opsctl/runs/2026/11/27/{run}.nothex.jsonl",
        f"opsctl/checkpoints/{LOG}/000000000001.json",
    ):
        assert parse_run_key("opsctl/", key) is None, key


def test_months_cover_the_window_and_a_day_of_clock_skew() -> None:
    assert list(months(date(2026, 10, 28), TODAY)) == [(2026, 10), (2026, 11)]
    assert list(months(date(2025, 12, 30), date(2026, 1, 31))) == [(2025, 12), (2026, 1), (2026, 2)]


class Spy(Bucket):
    """The real bucket, remembering every listing asked of it (prefix, start, flat)."""

    listings: list[tuple[str, str | None, bool]]

    def list(self, prefix: str, start_after: str | None = None, *, flat: bool = False) -> Any:
        self.listings.append((prefix, start_after, flat))
        return super().list(prefix, start_after, flat=flat)


def _body(run: str, seq: int, day: str) -> bytes:
    lines, prev = [], GENESIS
    for n, status in enumerate(("started", "succeeded")):
        fields = {
            "seq": seq + n,
            "ts": f"{day}T10:00:0{n}.000Z",
            "run": run,
            "runbook": "deploy",
            "env": "production",
            "actor": "a@example.com",
            "step": "run",
            "status": status,
        }
        line, prev = encode_event(fields, prev)
        lines.append(line)
    return b"".join(lines)


@pytest.fixture
def store(aws: MotoServer, tmp_path: Path) -> tuple[RemoteStore, Spy, list[str]]:
    """Old and recent runs in both layouts; the store's clock says 2026-11-27."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": aws.region})
    runs = {
        "r20250301-100000-000001": flat_run_key,  # two years ago, written before the partitions
        "r20250302-100000-000002": flat_run_key,
        "r20250801-100000-000003": run_key,
        "r20261030-100000-000004": flat_run_key,  # in the window, but flat: an older opsctl mirrored it
        "r20261101-100000-000005": run_key,
        "r20261126-100000-000006": run_key,
    }
    for seq, (run, key) in enumerate(runs.items(), start=1):
        day = f"{run[1:5]}-{run[5:7]}-{run[7:9]}"
        s3.put_object(Bucket=BUCKET, Key=key("opsctl/", run, LOG), Body=_body(run, seq * 10, day))
    config = S3Audit(bucket=BUCKET, region=aws.region, endpoint_url=aws.endpoint_url)
    spy = Spy(config)
    spy.listings = []
    remote = RemoteStore(config, tmp_path / "cache", bucket=spy)
    remote.today = lambda: TODAY
    return remote, spy, list(runs)


def test_a_window_lists_only_its_months_and_the_flat_folder(store: tuple[RemoteStore, Spy, list[str]]) -> None:
    remote, spy, runs = store
    floor = run_id_floor(datetime.fromisoformat("2026-10-29T10:00:00+00:00"))
    assert floor == "r20261028-100000"
    assert [obj.name for obj in remote.run_objects(floor)] == runs[3:]
    assert spy.listings == [
        ("opsctl/runs/", f"opsctl/runs/{floor}", True),
        ("opsctl/runs/2026/10/", f"opsctl/runs/2026/10/28/{floor}", False),
        ("opsctl/runs/2026/11/", None, False),
    ]


def test_everything_reads_both_layouts_in_run_order(store: tuple[RemoteStore, Spy, list[str]]) -> None:
    remote, spy, runs = store
    assert [obj.name for obj in remote.run_objects()] == runs
    assert spy.listings == [("opsctl/runs/", None, False)]


def test_a_window_of_years_is_one_listing_of_everything(store: tuple[RemoteStore, Spy, list[str]]) -> None:
    remote, spy, runs = store
    assert [obj.name for obj in remote.run_objects("r20230101-000000")] == runs
    assert spy.listings == [("opsctl/runs/", None, False)]


def test_the_newest_runs_come_from_the_last_month_when_it_holds_enough(
    store: tuple[RemoteStore, Spy, list[str]], tmp_path: Path
) -> None:
    remote, spy, runs = store
    newest = load_remote_runs(remote, tmp_path / "no-local-log.jsonl", last=2, now=NOW)
    assert [r.run for r in newest] == runs[-2:]
    assert [prefix for prefix, _, _ in spy.listings] == ["opsctl/runs/", "opsctl/runs/2026/10/", "opsctl/runs/2026/11/"]


def test_too_few_recent_runs_widen_the_window_then_read_everything(
    store: tuple[RemoteStore, Spy, list[str]], tmp_path: Path
) -> None:
    remote, spy, runs = store
    everything = load_remote_runs(remote, tmp_path / "no-local-log.jsonl", last=20, now=NOW)
    assert [r.run for r in everything] == runs
    assert spy.listings[-1] == ("opsctl/runs/", None, False)
    assert [r.run for r in load_remote_runs(remote, tmp_path / "no-local-log.jsonl", last=4, now=NOW)] == runs[2:]
