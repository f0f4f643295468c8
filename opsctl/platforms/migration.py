"""A database migration run once with the new image, before traffic moves: what is asked, what came of it.

The drivers run it (ECS: a one-off task of the new task definition revision,
:mod:`opsctl.platforms.ecs_migrate`; Fly: a one-off machine,
:mod:`opsctl.platforms.fly_migrate`); the ``platform.migrate`` action journals
it and the "migrations tested in staging" gate reads that journal.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from opsctl.values.imageref import ImageRef


class MigrationStatus(StrEnum):
    SUCCEEDED = "succeeded"  # the command exited 0
    FAILED = "failed"  # it exited non-zero, or never started (image pull, placement)
    TIMEOUT = "timeout"  # still running at the deadline (left running: stopping it halfway is worse)
    INTERRUPTED = "interrupted"  # cancel was set while waiting (left running as well)


@dataclass(frozen=True)
class MigrationRequest:
    """Run ``command`` with ``image``; ``key`` names this run's migration on the platform.

    The key (the run id) makes starting idempotent: a resumed run that finds a
    task or machine carrying its key follows that one instead of starting
    another migration.
    """

    image: ImageRef | str
    command: tuple[str, ...]
    timeout: float
    key: str
    log_lines: int = 50

    @property
    def shown(self) -> str:
        """The command as a person would type it, for messages."""
        return shlex.join(self.command)

    def still_running(self, unit: str) -> str:
        """The TIMEOUT message; ``unit`` names where it runs (``task 0a1b``, ``machine 3d8e``)."""
        return (
            f"the migration `{self.shown}` ({unit}) still runs after {self.timeout:g}s; "
            "opsctl left it running (stopping a migration halfway can leave the schema half-changed)"
        )

    def interrupted(self, unit: str) -> str:
        """The INTERRUPTED message of a cancel while the migration runs in ``unit``."""
        return f"interrupted while the migration `{self.shown}` ({unit}) runs; it was left running"

    def exited_zero(self, where: str) -> str:
        """The SUCCEEDED message; ``where`` names the unit (and what it ran)."""
        return f"the migration `{self.shown}` exited 0 ({where})"

    def failed(self, unit: str, why: str) -> str:
        """The FAILED message of a migration that ran in ``unit`` and did not exit 0."""
        return f"the migration `{self.shown}` failed ({unit}): {why}"

    @property
    def label(self) -> str:
        """The key as platforms accept it in tags and names: letters, digits, ``-``, ``_``; at most 63."""
        return re.sub(r"[^A-Za-z0-9_-]", "-", self.key)[:63] or "opsctl"


@dataclass(frozen=True)
class MigrationResult:
    """How the migration ended, with its exit code and the last lines of its logs (already redacted)."""

    status: MigrationStatus
    message: str  # one line: what ran where and how it ended
    image: str
    unit: str | None = None  # the ECS task id or Fly machine id
    exit_code: int | None = None
    digest: str | None = None  # of the image that ran, when the platform or the reference says
    logs: tuple[str, ...] = ()
    logs_note: str | None = None  # why there are no logs (not configured, not offered, unreadable)
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        status: MigrationStatus,
        message: str,
        ref: ImageRef,
        unit: str | None = None,
        *,
        code: int | None = None,
        digest: str | None = None,
        **rest: Any,
    ) -> MigrationResult:
        """A result for ``ref``; the digest is the platform's, else the reference's own (``@sha256:...``)."""
        return cls(status, message, str(ref), unit=unit, exit_code=code, digest=digest or ref.digest, **rest)

    @property
    def ok(self) -> bool:
        return self.status is MigrationStatus.SUCCEEDED

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON (``--json``, the step's audit detail)."""
        return {
            "status": self.status.value,
            "message": self.message,
            "image": self.image,
            "unit": self.unit,
            "exit_code": self.exit_code,
            "digest": self.digest,
            "logs": list(self.logs),
            "logs_note": self.logs_note,
            **self.detail,
        }
