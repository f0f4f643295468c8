"""Expected OS failures as one line naming the path and what is wrong with it."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from opsctl.files.oserrors import describe_os_error


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (errno.EACCES, "permission denied"),
        (errno.EPERM, "operation not permitted"),
        (errno.EISDIR, "is a directory, expected a file"),
        (errno.ENOTDIR, "a part of the path is a file, not a directory"),
        (errno.ENOSPC, "no space left on the device"),
        (errno.EDQUOT, "disk quota exceeded"),
        (errno.EROFS, "the file system is read-only"),
        (errno.ELOOP, "too many levels of symbolic links (a symlink loop?)"),
        (errno.ENOENT, "no such file or directory"),
        (errno.ENXIO, "no such device or address"),
    ],
)
def test_each_errno_reads_as_a_problem(code: int, problem: str) -> None:
    exc = OSError(code, os.strerror(code), ".opsctl/audit.jsonl")
    assert describe_os_error(Path(".opsctl/audit.jsonl"), exc) == f".opsctl/audit.jsonl: {problem}"


def test_the_file_named_by_the_error_wins_over_the_path_given() -> None:
    # `mkdir(parents=True)` fails on a parent: name the parent, not the folder asked for.
    exc = OSError(errno.ENOTDIR, "Not a directory", "state/x")
    assert describe_os_error(Path("state/x/y"), exc) == "state/x: a part of the path is a file, not a directory"


def test_an_error_without_a_file_names_the_path_given() -> None:
    assert describe_os_error(Path("log"), OSError(errno.ENOSPC, "No space left on device")) == (
        "log: no space left on the device"
    )


def test_a_broken_symlink_is_named_with_its_target(tmp_path: Path) -> None:
    (tmp_path / "state").symlink_to("/nonexistent/state")
    exc = FileNotFoundError(errno.ENOENT, "No such file or directory", str(tmp_path / "state" / "audit.jsonl"))
    assert describe_os_error(tmp_path / "state", exc) == (
        "state/audit.jsonl: is a broken symbolic link (its target /nonexistent/state does not exist)"
    )


def test_an_error_without_errno_uses_its_text() -> None:
    assert describe_os_error(Path("x"), OSError("Something odd.")) == "x: something odd"
    assert describe_os_error(Path("x"), OSError()) == "x: OSError"
