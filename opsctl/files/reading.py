"""Read a user-named file without trusting what the name points at.

``--config`` can name a fifo (opening it blocks until a writer comes),
``/dev/zero`` (reading never ends) or a directory. So: ``stat`` first and
require a regular file, open without blocking, check the opened file again
(it may have been swapped since the ``stat``), and never read more than a
fixed cap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from opsctl.errors import ConfigError
from opsctl.files.oserrors import describe_os_error
from opsctl.files.paths import display_path

MAX_FILE_BYTES = 1024 * 1024  # opsctl.yaml, checklists and runbooks are a few KiB; 1 MiB is generous


def read_regular_file(path: Path, *, what: str = "file", limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path``, or a ConfigError (exit 2) naming the file and the problem.

    ``what`` names the expected content in messages ("config file", "checklist").
    """
    label = display_path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        if os.path.islink(path):
            raise ConfigError(f"{describe_os_error(path, exc)}; expected a YAML {what}") from None
        raise ConfigError(f"{label}: {what} not found") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {describe_os_error(path, exc)}") from None
    _require_regular(label, info.st_mode, what)
    if info.st_size > limit:
        raise ConfigError(f"{label}: too large ({_size(info.st_size)}; a YAML {what} may be at most {_size(limit)})")
    try:
        # O_NONBLOCK: if a fifo replaced the file after the stat, open returns at once instead of waiting.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigError(f"cannot read {describe_os_error(path, exc)}") from None
    try:
        _require_regular(label, os.fstat(fd).st_mode, what)
        data = _read_at_most(fd, limit + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {describe_os_error(path, exc)}") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # the file grew after the stat
        raise ConfigError(f"{label}: too large (over {_size(limit)}; a YAML {what} may be at most {_size(limit)})")
    return data


def _require_regular(label: str, mode: int, what: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ConfigError(f"{label}: is a directory, expected a YAML {what}")
    raise ConfigError(f"{label}: is a {_kind(mode)}, not a regular file; expected a YAML {what}")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe (fifo)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _read_at_most(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MiB".replace(".0 MiB", " MiB")
    if count >= 1024:
        return f"{count / 1024:.1f} KiB".replace(".0 KiB", " KiB")
    return f"{count} bytes"
