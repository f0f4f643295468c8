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

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsctl.workspace import Workspace


def attach(ws: Workspace) -> None:
    """Mirror every run of ``ws`` when it ends (the workspace calls this when ``audit.s3`` is set)."""
    s3 = ws.config.audit.s3
    if s3 is None:
        return

    def mirror_run(run_id: str) -> None:
        from opsctl.audit.mirror.uploader import Mirror

        Mirror.for_workspace(ws).run_finished(run_id)

    ws.run_finished_hooks.append(mirror_run)
