"""The state folder: made once with a .gitignore; any reason it cannot be used is one line, exit 2."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from opsctl.errors import BadInput, ExitCode
from opsctl.files.statedir import ensure_state_dir

HINT = "fix it or set state_dir in opsctl.yaml"


def refusal(path: Path) -> str:
    with pytest.raises(BadInput) as caught:
        ensure_state_dir(path)
    assert caught.value.exit_code is ExitCode.BAD_INPUT
    return str(caught.value)


def test_made_private_with_a_gitignore() -> None:
    made = ensure_state_dir(Path(".opsctl"))
    assert made == Path(".opsctl")
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    assert (made / ".gitignore").read_text() == "# opsctl state: not source\n*\n"


def test_an_existing_gitignore_is_kept() -> None:
    Path(".opsctl").mkdir()
    Path(".opsctl/.gitignore").write_text("mine\n")
    ensure_state_dir(Path(".opsctl"))
    assert Path(".opsctl/.gitignore").read_text() == "mine\n"


def test_a_file_where_the_folder_should_be() -> None:
    Path(".opsctl").write_text("oops")
    assert refusal(Path(".opsctl")) == f"state folder .opsctl: not a directory; {HINT}"


def test_a_folder_under_a_file() -> None:
    Path("plain").write_text("x")
    assert (
        refusal(Path("plain/state"))
        == f"state folder plain/state: a part of the path is a file, not a directory; {HINT}"
    )


def test_a_broken_symlink_is_reported_and_its_target_not_created(tmp_path: Path) -> None:
    target = tmp_path / "unmounted" / "opsctl"
    Path(".opsctl").symlink_to(target)
    assert refusal(Path(".opsctl")) == (
        f"state folder .opsctl: is a broken symbolic link (its target {target} does not exist); {HINT}"
    )
    assert not target.parent.exists()


def test_a_symlink_loop() -> None:
    Path(".opsctl").symlink_to("loop")
    Path("loop").symlink_to(".opsctl")
    assert (
        refusal(Path(".opsctl")) == f"state folder .opsctl: too many levels of symbolic links (a symlink loop?); {HINT}"
    )


def test_a_symlink_to_a_folder_is_used() -> None:
    Path("elsewhere").mkdir()
    Path(".opsctl").symlink_to("elsewhere")
    ensure_state_dir(Path(".opsctl"))
    assert Path("elsewhere/.gitignore").is_file()


def test_a_broken_gitignore_symlink_is_not_written_through(tmp_path: Path) -> None:
    Path(".opsctl").mkdir()
    Path(".opsctl/.gitignore").symlink_to(tmp_path / "outside")
    ensure_state_dir(Path(".opsctl"))
    assert not (tmp_path / "outside").exists()


def test_a_folder_that_is_not_writable(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, for whom a root-owned 0500 folder is writable: ask os.access as a user would get it.
    Path(".opsctl").mkdir()
    monkeypatch.setattr(os, "access", lambda *_args, **_kwargs: False)
    assert refusal(Path(".opsctl")) == f"state folder .opsctl: not writable (permission denied); {HINT}"


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (errno.ENOSPC, "no space left on the device"),
        (errno.EROFS, "the file system is read-only"),
        (errno.EACCES, "permission denied"),
        (errno.EDQUOT, "disk quota exceeded"),
    ],
)
def test_a_disk_that_refuses_the_gitignore(monkeypatch: pytest.MonkeyPatch, code: int, problem: str) -> None:
    def refuse(self: Path, *args: Any, **kwargs: Any) -> int:
        raise OSError(code, os.strerror(code), str(self))

    monkeypatch.setattr(Path, "write_text", refuse)
    assert refusal(Path(".opsctl")) == f"state folder .opsctl/.gitignore: {problem}; {HINT}"


def test_a_disk_that_refuses_the_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path, *args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert refusal(Path("state")) == f"state folder state: no space left on the device; {HINT}"
