"""Reading the team's history back from S3: all run objects and checkpoints, cached locally.

A listing (one request per 1,000 objects) says what exists; only objects not
yet in ``<state>/mirror/cache`` are downloaded, concurrently. A cached copy is
used only while its MD5 equals the object's listed ETag, so editing the cache
cannot fool ``audit verify --remote`` (objects whose ETag is not a plain MD5,
e.g. under SSE-KMS, are simply downloaded every time).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from opsctl.audit.mirror import MirrorSite
from opsctl.audit.mirror.layout import (
    CHECKPOINTS,
    RUNS,
    day_folder,
    month_folder,
    normal_prefix,
    parse_checkpoint_key,
    parse_run_key,
    run_day,
)
from opsctl.audit.mirror.s3 import Bucket
from opsctl.config import S3Audit

WORKERS = 10  # botocore keeps 10 connections per client: more threads would only wait for one
MAX_MONTHS = 24  # a window over more months is listed whole: one paged listing beats hundreds of small ones


@dataclass(frozen=True)
class RemoteObject:
    key: str
    log: str
    name: str  # the run id (run objects) or the zero-padded seq (checkpoints)
    body: bytes


class RemoteStore:
    """The bucket's run objects and checkpoints, read through the local cache (``opsctl.audit.query`` merges them)."""

    def __init__(
        self, config: S3Audit, cache_dir: Path | None, *, bucket: Bucket | None = None, workers: int = WORKERS
    ) -> None:
        self.config = config
        self.prefix = normal_prefix(config.prefix)
        self.cache_dir = cache_dir
        self.bucket = bucket or Bucket(config)
        self.workers = workers
        self.today: Callable[[], date] = lambda: datetime.now(UTC).date()

    @classmethod
    def for_site(cls, site: MirrorSite) -> RemoteStore:
        """The store of ``site``'s ``audit.s3`` (BadInput without one), cached in ``<state>/mirror/cache``."""
        return cls(site.require_s3(), site.folder / "cache")

    def run_objects(self, since_run: str | None = None) -> list[RemoteObject]:
        """Every run object (of every log), oldest run first; ``since_run`` skips runs named before it."""
        return self._fetch(self._run_listing(since_run))

    def everything(self) -> tuple[list[RemoteObject], list[RemoteObject]]:
        """All run objects and all checkpoints; the two listings run side by side (they are sequential pages)."""
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = pool.submit(self._run_listing, None)
            checkpoints = pool.submit(self._checkpoint_listing)
            wanted = runs.result()
            split = len(wanted)
            wanted += checkpoints.result()
        fetched = self._fetch(wanted)
        return fetched[:split], fetched[split:]

    def _run_listing(self, since_run: str | None) -> list[_Wanted]:
        """The run objects of runs named ``since_run`` or later (all without it), oldest run first.

        With ``since_run``, only the month partitions from its day on are
        listed (the first from its day's key on), plus the flat folder of
        objects written before the partitions (after ``since_run`` there):
        the cost follows the window, not the history.
        """
        folder = f"{self.prefix}{RUNS}"
        day = run_day(since_run) if since_run else None
        spanned = list(months(day, self.today())) if day is not None else []
        if since_run is None or day is None or len(spanned) > MAX_MONTHS:
            listed = self._list(folder, None)  # everything (years of window: one paged listing beats many small ones)
        else:
            listed = self._list(folder, f"{folder}{quote(since_run, safe='-_')}", flat=True)
            for number, (year, month) in enumerate(spanned):
                month_start = (
                    f"{day_folder(self.config.prefix, day)}{quote(since_run, safe='-_')}" if not number else None
                )
                listed += self._list(month_folder(self.config.prefix, year, month), month_start)
        wanted = []
        for key, etag in listed:
            parsed = parse_run_key(self.config.prefix, key)
            if parsed is not None and (since_run is None or parsed[0] >= since_run):
                run, log = parsed
                wanted.append(_Wanted(key, etag, log, run, f"runs/{quote(run, safe='-_')}.{log}.jsonl"))
        wanted.sort(key=lambda item: (item.name, item.log))  # the two layouts interleave: run ids are time order
        return wanted

    def _checkpoint_listing(self) -> list[_Wanted]:
        """Every checkpoint of every log, in (log, seq) order."""
        wanted = []
        for key, etag in self._list(f"{self.prefix}{CHECKPOINTS}", None):
            parsed = parse_checkpoint_key(self.config.prefix, key)
            if parsed is not None:
                log, seq = parsed
                wanted.append(_Wanted(key, etag, log, f"{seq:012d}", f"checkpoints/{log}/{seq:012d}.json"))
        return wanted

    def _list(self, prefix: str, start: str | None, *, flat: bool = False) -> list[tuple[str, str]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return list(self.bucket.list(prefix, start, flat=flat))
        except (BotoCoreError, ClientError) as exc:
            raise self.bucket.problem(exc, f"listing s3://{self.config.bucket}/{prefix}") from None

    def _fetch(self, wanted: list[_Wanted]) -> list[RemoteObject]:
        """Download what the cache lacks, concurrently, keeping ``wanted``'s order."""
        from botocore.exceptions import BotoCoreError, ClientError

        def one(item: _Wanted) -> RemoteObject:
            path = self.cache_dir / item.cache_name if self.cache_dir else None
            body = _cached(path, item.etag)
            if body is None:
                try:
                    body = self.bucket.get(item.key)
                except (BotoCoreError, ClientError) as exc:
                    raise self.bucket.problem(exc, f"reading s3://{self.config.bucket}/{item.key}") from None
                if path is not None:
                    _store(path, body)
            return RemoteObject(item.key, item.log, item.name, body)

        if len(wanted) < 2:
            return [one(item) for item in wanted]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(pool.map(one, wanted))


def months(first: date, today: date) -> Iterator[tuple[int, int]]:
    """(year, month) from ``first``'s month to the month of the day after ``today`` (a clock a little ahead)."""
    last = today + timedelta(days=1)
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@dataclass(frozen=True)
class _Wanted:
    """A listed object; ``cache_name`` is rebuilt from its parsed, validated parts (never the raw key)."""

    key: str
    etag: str
    log: str
    name: str
    cache_name: str


def _cached(path: Path | None, etag: str) -> bytes | None:
    if path is None:
        return None
    try:
        body = path.read_bytes()
    except OSError:
        return None
    # MD5 binds the cached bytes to what S3 holds: a second preimage, not a collision, would be needed to fool it.
    return body if hashlib.md5(body, usedforsecurity=False).hexdigest() == etag else None


def _store(path: Path, body: bytes) -> None:
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs speed
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temp.write_bytes(body)
        temp.replace(path)
