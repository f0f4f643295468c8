"""The central audit trail: every run's events mirrored to S3, pinned by chained, signed checkpoints.

Layout under ``s3://<bucket>/<prefix>`` (see :mod:`opsctl.audit.mirror.layout`)::

    runs/<run id>.<log id>.jsonl              the run's lines, byte for byte as in the local log
    checkpoints/<log id>/<last seq:012>.json  {run, last_seq, head, prev_checkpoint, ...} + signature

Run ids start with their UTC start time, so a listing of ``runs/`` is
chronological. A *log id* names one local audit log (the first 16 hex of
its first event's hash), so the events of many engineers' logs never mix.

The mirror is best effort by design: a run ends, its id goes into a local
queue (``<state>/mirror/queue``), and the queue is flushed; when S3 is down
the runs wait there and ``opsctl status`` says the mirror is behind.
Nothing here imports boto3 at module level (STYLE 8).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from opsctl.audit.log import AuditLog
from opsctl.config import S3Audit
from opsctl.errors import BadInput


@dataclass(frozen=True)
class MirrorSite:
    """What the mirror works with: ``audit.s3`` (None: no mirror), the state folder, the log, who and when.

    The workspace makes one (``Workspace.mirror_site()``); the mirror never sees the workspace itself.
    """

    s3: S3Audit | None
    state_dir: Path
    audit: AuditLog
    actor: str
    clock: Callable[[], datetime]

    @property
    def folder(self) -> Path:
        """``<state>/mirror``: the queue, the state file and the read cache."""
        return self.state_dir / "mirror"

    def require_s3(self) -> S3Audit:
        """``audit.s3``, or BadInput when the project has no central audit trail."""
        if self.s3 is None:
            raise BadInput("audit.s3 is not configured in opsctl.yaml: there is no central audit trail")
        return self.s3


def attach(site: MirrorSite, run_finished_hooks: list[Callable[[str], None]]) -> None:
    """Mirror every run when it ends: add the upload to the hooks the workspace calls (if ``audit.s3`` is set)."""
    if site.s3 is None:
        return

    def mirror_run(run_id: str) -> None:
        from opsctl.audit.mirror.uploader import Mirror

        Mirror(site).run_finished(run_id)

    run_finished_hooks.append(mirror_run)
