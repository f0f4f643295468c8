"""The default lock: an OS file lock per environment, released by the kernel if the process dies.

``<state>/locks/<env>.lock`` carries the ``flock``; ``<env>.json`` beside it
says who holds it. A holder file without a held flock is stale and ignored.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from opsctl.files.statedir import ensure_state_dir
from opsctl.locks.base import LockBackend, LockHandle, LockInfo


class FileLockHandle(LockHandle):
    def __init__(self, backend: FileLockBackend, info: LockInfo, fd: int) -> None:
        self.backend = backend
        self.info = info
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.backend.holder_path(self.info.env).unlink()
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


class FileLockBackend(LockBackend):
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def lock_path(self, env: str) -> Path:
        return self.folder / f"{env}.lock"

    def holder_path(self, env: str) -> Path:
        return self.folder / f"{env}.json"

    def acquire(self, info: LockInfo) -> LockHandle:
        ensure_state_dir(self.folder.parent)
        self.folder.mkdir(exist_ok=True, mode=0o700)
        fd = os.open(self.lock_path(info.env), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = self._read_holder(info.env)
            if holder is None:  # the holder is still writing its file
                holder = LockInfo(info.env, "?", "another process", "?", "?", since="just now")
            raise holder.locked_error() from None
        temp = self.holder_path(info.env).with_suffix(".tmp")
        temp.write_text(json.dumps(info.as_dict()))
        temp.replace(self.holder_path(info.env))
        return FileLockHandle(self, info, fd)

    def _read_holder(self, env: str) -> LockInfo | None:
        try:
            return LockInfo(**json.loads(self.holder_path(env).read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def _is_held(self, env: str) -> bool:
        path = self.lock_path(env)
        if not path.exists():
            return False
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    def status(self, env: str) -> LockInfo | None:
        if not self._is_held(env):
            return None
        return self._read_holder(env) or LockInfo(env, "?", "unknown", "?", "?")

    def force_release(self, env: str, lock_id: str | None) -> LockInfo | None:  # noqa: ARG002 - no ids on files
        """Remove the lock files. A live holder keeps its flock on the unlinked file, so only
        use this when the holder is gone or stuck (the CLI says so and audits it)."""
        holder = self.status(env)
        for path in (self.lock_path(env), self.holder_path(env)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return holder
