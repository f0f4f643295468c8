"""Expected operating-system failures as one short line a person can act on.

Disk full, a read-only mount, a path under a file, a dangling symlink: these
are the machine's state, not bugs in opsctl, so callers turn them into an
``OpsctlError`` with :func:`describe_os_error` instead of letting the generic
"unexpected error" handler print them.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from opsctl.files.paths import display_path

# What each errno means for a path, phrased for the person who has to fix it.
_PROBLEMS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EISDIR: "is a directory, expected a file",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.EEXIST: "already exists",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.ELOOP: "too many levels of symbolic links (a symlink loop?)",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EMFILE: "too many open files",
    errno.EIO: "input/output error (a failing disk or network mount?)",
    errno.ETXTBSY: "the file is busy",
}


def describe_os_error(path: str | os.PathLike[str], exc: OSError) -> str:
    """``path: problem`` for ``exc``, e.g. ``.opsctl/audit.jsonl: no space left on the device``.

    A missing file reached through a symlink is named as a broken symlink,
    since "not found" would send the reader looking at the wrong path.
    """
    target = Path(os.fspath(exc.filename)) if isinstance(exc.filename, str) else Path(os.fspath(path))
    return f"{display_path(target)}: {_problem(target, exc)}"


def _problem(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        link = _broken_link(path)
        if link is not None:
            return f"is a broken symbolic link (its target {link} does not exist)"
        return "no such file or directory"
    if exc.errno in _PROBLEMS:
        return _PROBLEMS[exc.errno]
    reason = (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")
    return reason[:1].lower() + reason[1:] if reason[1:2].islower() else reason


def _broken_link(path: Path) -> str | None:
    """The target of the first dangling symlink on ``path`` (itself or a parent), if any."""
    for candidate in (path, *path.parents):
        try:
            if candidate.is_symlink() and not candidate.exists():
                return os.readlink(candidate)
        except OSError:
            return None
    return None
