"""Opening the audit log file safely: never through a symlink, never anything but a regular file.

The log is the run journal and the evidence of who changed what: a symlink
at its path could send events to another file (or read them from one), and
a fifo or a device would block or swallow them. Every open uses
``O_NOFOLLOW`` (a symlink fails instead of being followed) and
``O_NONBLOCK`` (a fifo cannot hang the open), then checks the descriptor is
a regular file. Failures are :class:`AuditLogError`: one line naming the
path, exit 2 (a run that has already changed the platform turns it into
exit 3, see :mod:`opsctl.runs.run`).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from opsctl.errors import BadInput
from opsctl.files.oserrors import describe_os_error
from opsctl.files.paths import display_path

_KINDS = (
    (stat.S_ISDIR, "is a directory, expected a file"),
    (stat.S_ISFIFO, "is a fifo (named pipe), not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
    (stat.S_ISCHR, "is a device, not a regular file"),
    (stat.S_ISBLK, "is a device, not a regular file"),
)


class AuditLogError(BadInput):
    """The audit log cannot be opened, read or written (one line naming its path)."""


def open_log(path: Path, flags: int, mode: int = 0o600) -> int:
    """A descriptor on the regular file at ``path`` (``flags`` as for ``os.open``), or AuditLogError."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as exc:
        raise log_error(path, exc) from None
    try:
        kind = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise log_error(path, exc) from None
    if not stat.S_ISREG(kind):
        os.close(fd)
        raise AuditLogError(f"audit log {display_path(path)}: {_kind(kind)}")
    return fd


def log_error(path: Path, exc: OSError) -> AuditLogError:
    """``exc`` on the log at ``path`` as one line (a symlink is named as such, not as a loop)."""
    if exc.errno in (errno.ELOOP, errno.EMLINK) and path.is_symlink():
        target = os.readlink(path)
        return AuditLogError(
            f"audit log {display_path(path)}: is a symbolic link (to {target}); the audit log must be "
            "a regular file: replace the link with the file itself"
        )
    return AuditLogError(f"audit log {describe_os_error(path, exc)}")


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a short write on a nearly full disk is not the end)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written == 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def _kind(mode: int) -> str:
    return next((text for test, text in _KINDS if test(mode)), "is not a regular file")
