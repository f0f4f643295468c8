"""The default lock: an OS file lock per environment, released by the kernel if the process dies.

``<state>/locks/<env>.lock`` carries the ``flock``; ``<env>.json`` beside it
says who holds it and with which fencing token; ``<env>.gen`` counts the
acquisitions (the token's generation), incremented under the ``flock`` and
never removed. A holder file without a held flock is stale and ignored.

``opsctl lock release --force`` unlinks ``<env>.lock`` and ``<env>.json``; a
live holder keeps its flock on the unlinked file and would not notice, so
:meth:`FileLockHandle.check` compares the inode of its descriptor with the
file now at the lock's path, and the token named by the holder file with its own.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from opsctl.errors import BadInput
from opsctl.files.oserrors import describe_os_error
from opsctl.files.paths import display_path
from opsctl.files.statedir import ensure_state_dir
from opsctl.locks.base import FencingToken, LockBackend, LockHandle, LockInfo

T = TypeVar("T")
_RACES = 3  # a force release between our open and our flock: lock the new file instead


class FileLockHandle(LockHandle):
    backend: FileLockBackend

    def __init__(self, backend: FileLockBackend, info: LockInfo, fd: int, token: FencingToken) -> None:
        self.backend = backend
        self.info = info
        self.token = token
        self.lost = False
        self._fd: int | None = fd

    def _still_ours(self) -> bool:
        if self._fd is None:
            return False
        env = self.info.env
        try:
            held = os.fstat(self._fd)
            there = os.stat(self.backend.lock_path(env))
        except FileNotFoundError:  # unlinked by a forced release, and nobody took it since
            return False
        if (held.st_dev, held.st_ino) != (there.st_dev, there.st_ino):
            return False  # broken, and another run made a new lock file and holds it
        recorded = self.backend.read_token(env)
        return recorded is not None and recorded.id == self.token.id

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            # A broken lock's holder file may be the next holder's by now: leave it alone.
            if not self.lost and self._still_ours():
                with contextlib.suppress(FileNotFoundError):
                    self.backend.holder_path(self.info.env).unlink()
        finally:
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

    def generation_path(self, env: str) -> Path:
        return self.folder / f"{env}.gen"

    def acquire(self, info: LockInfo) -> LockHandle:
        ensure_state_dir(self.folder.parent)
        ensure_state_dir(self.folder)  # a file or a dangling symlink there: one line, exit 2
        path = self.lock_path(info.env)
        for _ in range(_RACES):
            fd = _os_call(path, lambda: os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600))
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                holder = self._read_holder(info.env)
                if holder is None:  # the holder is still writing its file
                    holder = LockInfo(info.env, "?", "another process", "?", "?", since="just now")
                raise holder.locked_error() from None
            if _same_file(fd, path):
                break
            os.close(fd)  # we locked a file a forced release had just unlinked
        else:
            raise BadInput(f"{info.env}'s lock changed hands {_RACES} times while we tried to take it; try again")
        try:
            token = FencingToken(secrets.token_hex(16), self._next_generation(info.env))
            self._write_json(self.holder_path(info.env), {**info.as_dict(), "token": token.as_dict()})
        except BaseException:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise
        return FileLockHandle(self, info, fd, token)

    def _next_generation(self, env: str) -> int:
        """Read, increment and durably write ``<env>.gen`` (the caller holds the flock)."""
        path = self.generation_path(env)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = "0"
        except OSError as exc:
            raise BadInput(f"deploy lock counter {describe_os_error(path, exc)}") from None
        if not text.isdigit():
            raise BadInput(
                f"{display_path(path)}: not a lock generation number ({text[:20]!r}); "
                f"write the last generation into it (0 if unknown) while no run holds {env}'s lock"
            )
        generation = int(text) + 1
        self._write_text(path, f"{generation}\n")
        return generation

    def _write_json(self, path: Path, data: dict[str, Any]) -> None:
        self._write_text(path, json.dumps(data))

    def _write_text(self, path: Path, text: str) -> None:
        """Write ``path`` whole (a temporary file renamed over it, fsynced): readers never see half."""
        temp = path.with_name(f".{path.name}.tmp")

        def write() -> None:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            try:
                os.write(fd, text.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, path)

        _os_call(path, write)

    def _holder_data(self, env: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self.holder_path(env).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _read_holder(self, env: str) -> LockInfo | None:
        data = self._holder_data(env)
        try:
            return LockInfo.from_dict(data) if data is not None else None
        except TypeError:  # fields missing: not a holder file this version can read
            return None

    def read_token(self, env: str) -> FencingToken | None:
        """The fencing token the holder file names (None: no holder file, or one without a token)."""
        data = self._holder_data(env)
        token = data.get("token") if data is not None else None
        if not isinstance(token, dict):
            return None
        try:
            return FencingToken(str(token["id"]), int(token["generation"]))
        except (KeyError, TypeError, ValueError):
            return None

    def _is_held(self, env: str) -> bool:
        path = self.lock_path(env)
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise _lock_file_error(path, exc) from None
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
        """Remove the lock files (not the generation counter). A live holder keeps its flock on the
        unlinked file; its next :meth:`FileLockHandle.check` finds the lock gone and stops its run."""
        holder = self.status(env)
        for path in (self.lock_path(env), self.holder_path(env)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return holder


def _same_file(fd: int, path: Path) -> bool:
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (there.st_dev, there.st_ino)


def _os_call(path: Path, call: Callable[[], T]) -> T:
    """``call()``, with an OSError as one line naming ``path`` (exit 2), never a traceback."""
    try:
        return call()
    except OSError as exc:
        raise _lock_file_error(path, exc) from None


def _lock_file_error(path: Path, exc: OSError) -> BadInput:
    if exc.errno == errno.ELOOP and path.is_symlink():  # O_NOFOLLOW: a symlink is never followed
        return BadInput(f"deploy lock {display_path(path)}: is a symbolic link; lock files must be regular files")
    return BadInput(f"deploy lock {describe_os_error(path, exc)}")
