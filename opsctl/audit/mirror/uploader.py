"""Uploading runs when they end, through a local queue that outlives S3 outages.

A run's end puts its id in ``<state>/mirror/queue`` and flushes the queue:
each queued run's lines go up as one object, then one checkpoint pins the
local log's head. Only when all of that succeeded do the runs leave the queue,
so a failure anywhere (S3 down, credentials, a missing signing key) loses
nothing: the next run's end, or ``opsctl audit push``, tries again. A flush
never raises; it reports, and the run's outcome stands.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from opsctl.audit.line import GENESIS, format_ts
from opsctl.audit.mirror import MirrorSite
from opsctl.audit.mirror.checkpoint import Checkpoint, object_hash, signed_message
from opsctl.audit.mirror.layout import CHECKPOINTS, Snapshot, checkpoint_key, normal_prefix, run_key, snapshot
from opsctl.audit.mirror.s3 import Bucket
from opsctl.errors import BadInput, OpsctlError
from opsctl.files.oserrors import describe_os_error
from opsctl.files.paths import display_path
from opsctl.files.statedir import ensure_state_dir

STEP = "audit.mirror"


@dataclass(frozen=True)
class Backlog:
    """How far the mirror is behind: queued runs, and the last error if any."""

    runs: int
    last_error: str | None = None
    oldest: str | None = None  # when the oldest queued run was queued

    def as_dict(self) -> dict[str, Any]:
        return {"behind": self.runs, "last_error": self.last_error, "oldest": self.oldest}


@dataclass(frozen=True)
class FlushResult:
    uploaded: tuple[str, ...] = ()
    checkpoint: str | None = None
    behind: int = 0
    error: str | None = None


class Mirror:
    """This host's side of the mirror: the queue, the uploads and the checkpoints of ``site``'s log."""

    def __init__(
        self, site: MirrorSite, *, bucket: Bucket | None = None, environ: Mapping[str, str] | None = None
    ) -> None:
        self.config = site.require_s3()  # BadInput when the project has no audit.s3
        self.audit = site.audit
        self.folder = site.folder
        self.actor = site.actor
        self.clock = site.clock
        self.bucket = bucket or Bucket(self.config)
        self.environ = environ

    @property
    def queue(self) -> Path:
        return self.folder / "queue"

    def run_finished(self, run_id: str) -> FlushResult:
        """The after-run hook: queue the run, flush, and journal a warning if the mirror fell behind."""
        self.enqueue(run_id)
        result = self.flush()
        if result.error is not None:
            behind = f" is {result.behind} run(s) behind" if result.behind else ""
            self.audit.append(
                {
                    "run": run_id,
                    "runbook": "-",
                    "env": "-",
                    "actor": self.actor,
                    "step": STEP,
                    "status": "warned",
                    "behind": result.behind,
                    "summary": f"audit mirror{behind}: {result.error}",
                }
            )
        return result

    def enqueue(self, run_id: str) -> None:
        ensure_state_dir(self.folder.parent)
        entry = self.queue / quote(run_id, safe="-_")
        try:
            if os.path.lexists(self.queue) and not self.queue.is_dir():
                os.stat(self.queue)  # a dangling symlink raises here, and is described below
                raise BadInput(f"audit mirror queue {display_path(self.queue)}: not a directory; move it away")
            self.queue.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not entry.exists():
                entry.write_text(json.dumps({"run": run_id, "queued": format_ts(self.clock())}))
        except OSError as exc:  # a file where the queue folder goes, a full disk: one line, not a bug
            raise BadInput(f"audit mirror queue {describe_os_error(self.queue, exc)}") from None

    def queued(self) -> list[str]:
        if not self.queue.is_dir():
            return []
        return sorted(unquote(p.name) for p in self.queue.iterdir() if not p.name.startswith("."))

    def backlog(self) -> Backlog:
        """Local only (no S3 call): what ``opsctl status`` shows."""
        runs = self.queued()
        state = self.read_state()
        oldest = None
        if runs:
            with contextlib.suppress(OSError, ValueError):
                oldest = json.loads((self.queue / quote(runs[0], safe="-_")).read_text()).get("queued")
        return Backlog(len(runs), state.get("last_error") or state.get("conflict"), oldest)

    def flush(self) -> FlushResult:
        """Upload every queued run and one checkpoint; never raises."""
        if not self.queue.is_dir():
            return FlushResult()
        try:
            return self._flush()
        except OSError as exc:  # the mirror's own files (lock, state) cannot be used: say which, keep the queue
            behind = 0
            with contextlib.suppress(OSError):
                behind = len(self.queued())
            return FlushResult(behind=behind, error=f"audit mirror {describe_os_error(self.folder, exc)}")

    def _flush(self) -> FlushResult:
        with self._exclusive():
            runs = self.queued()
            if not runs:
                return FlushResult()
            state = self.read_state()
            try:
                snap = snapshot(self.audit.path, frozenset(runs))
                if snap.log is not None:
                    for run in runs:
                        if snap.lines.get(run):
                            body = b"".join(snap.lines[run])
                            self.bucket.put(run_key(self.config.prefix, run, snap.log), body, "application/x-ndjson")
                    key, conflict = self._checkpoint(snap, runs, state)
                else:
                    key, conflict = None, None
            except Exception as exc:  # S3 down, credentials, signing key: the runs stay queued
                state.update(last_error=self._describe(exc), last_error_at=format_ts(self.clock()))
                self._save(state)
                return FlushResult(behind=len(runs), error=state["last_error"])
            for run in runs:
                with contextlib.suppress(FileNotFoundError):
                    (self.queue / quote(run, safe="-_")).unlink()
            state.update(last_error=None, conflict=conflict, last_upload_at=format_ts(self.clock()))
            self._save(state)
            return FlushResult(tuple(runs), key, 0, conflict)

    def _checkpoint(self, snap: Snapshot, runs: list[str], state: dict[str, Any]) -> tuple[str | None, str | None]:
        """Write a checkpoint when the head moved; (its key, a conflict with the last checkpoint)."""
        from opsctl.audit.mirror.signing import make_signer

        assert snap.log is not None  # noqa: S101 - the caller checked
        pinned = state.get("checkpoint") if state.get("log") == snap.log else None
        pinned = pinned or self._latest_central(snap.log)
        last_seq = int(pinned["seq"]) if pinned else 0
        if snap.last_seq < last_seq:
            return None, (
                f"the local audit log ends at seq {snap.last_seq}, before the last checkpoint "
                f"(seq {last_seq}): its tail was cut; run `opsctl audit verify --remote`"
            )
        if snap.last_seq == last_seq:
            return None, None  # nothing new to pin
        checkpoint = Checkpoint(
            snap.log,
            runs[-1],
            snap.last_seq,
            snap.head,
            str(pinned["hash"]) if pinned else GENESIS,
            format_ts(self.clock()),
            self.actor,
            socket.gethostname(),
            tuple(runs),
        )
        signer = make_signer(self.config, self.environ)
        if signer is not None:
            checkpoint = checkpoint.signed(signer.block(signed_message(checkpoint)))
        data = checkpoint.to_bytes()
        key = checkpoint_key(self.config.prefix, snap.log, snap.last_seq)
        self.bucket.put(key, data, "application/json")
        state.update(log=snap.log, checkpoint={"key": key, "hash": object_hash(data), "seq": snap.last_seq})
        return key, None

    def _latest_central(self, log: str) -> dict[str, Any] | None:
        """The newest checkpoint of ``log`` in S3 (when the local state was lost or is new)."""
        keys = [key for key, _ in self.bucket.list(f"{normal_prefix(self.config.prefix)}{CHECKPOINTS}{log}/")]
        if not keys:
            return None
        data = self.bucket.get(keys[-1])
        return {"key": keys[-1], "hash": object_hash(data), "seq": Checkpoint.parse(data).last_seq}

    def _describe(self, exc: Exception) -> str:
        if isinstance(exc, OpsctlError):
            return str(exc)
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, BotoCoreError | ClientError):
            return str(self.bucket.problem(exc, f"uploading to s3://{self.config.bucket}"))
        return f"{type(exc).__name__}: {exc}"

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One flush at a time per state folder, so checkpoints of one log never fork."""
        fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def read_state(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / "state.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save(self, state: dict[str, Any]) -> None:
        temp = self.folder / "state.json.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(state, handle)
        temp.replace(self.folder / "state.json")


def mirror_backlog(site: MirrorSite) -> Backlog | None:
    """The mirror's backlog, or None when no mirror is configured."""
    if site.s3 is None:
        return None
    return Mirror(site).backlog()
