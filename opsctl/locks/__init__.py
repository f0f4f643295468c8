"""Per-environment deploy locks: one run per environment at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsctl.config import Config
    from opsctl.locks.base import LockBackend


def make_lock_backend(config: Config) -> LockBackend:
    """The backend named by ``locks.backend`` (file by default)."""
    if config.locks.backend == "dynamodb":
        from opsctl.locks.dynamodb import DynamoLockBackend

        return DynamoLockBackend(config.locks, config.service)
    if config.locks.backend == "kubernetes":
        from opsctl.locks.lease import LeaseLockBackend

        return LeaseLockBackend(config.locks, config.service)
    from opsctl.locks.file import FileLockBackend

    return FileLockBackend(config.state_path / "locks")
