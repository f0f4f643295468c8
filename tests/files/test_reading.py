"""Reading a user-named file: regular files only, never blocking, never more than the cap."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from opsctl.errors import ConfigError, ExitCode
from opsctl.files.reading import MAX_FILE_BYTES, read_regular_file


def refusal(path: Path | str, *, what: str = "config file", limit: int = MAX_FILE_BYTES) -> str:
    with pytest.raises(ConfigError) as caught:
        read_regular_file(Path(path), what=what, limit=limit)
    assert caught.value.exit_code is ExitCode.BAD_INPUT
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_a_regular_file_is_read_whole() -> None:
    Path("opsctl.yaml").write_bytes(b"service: hvb\n")
    assert read_regular_file(Path("opsctl.yaml")) == b"service: hvb\n"


def test_a_file_at_the_cap_is_read() -> None:
    Path("big.yaml").write_bytes(b"x" * 100)
    assert len(read_regular_file(Path("big.yaml"), limit=100)) == 100


@pytest.mark.timeout(10)
def test_a_fifo_is_refused_without_opening_it() -> None:
    os.mkfifo("opsctl.yaml")  # opening it for reading would wait for a writer forever
    assert (
        refusal("opsctl.yaml") == "opsctl.yaml: is a named pipe (fifo), not a regular file; expected a YAML config file"
    )


@pytest.mark.timeout(10)
def test_a_device_is_refused_without_reading_it() -> None:
    assert refusal("/dev/zero", what="checklist") == (
        "/dev/zero: is a device, not a regular file; expected a YAML checklist"
    )


def test_a_directory_is_refused() -> None:
    Path("conf").mkdir()
    assert refusal("conf") == "conf: is a directory, expected a YAML config file"


def test_a_missing_file() -> None:
    assert refusal("nope.yaml", what="runbook") == "nope.yaml: runbook not found"


def test_a_broken_symlink_names_its_target() -> None:
    Path("opsctl.yaml").symlink_to("/nonexistent/opsctl.yaml")
    assert refusal("opsctl.yaml") == (
        "opsctl.yaml: is a broken symbolic link (its target /nonexistent/opsctl.yaml does not exist); "
        "expected a YAML config file"
    )


def test_a_symlink_loop() -> None:
    Path("a.yaml").symlink_to("b.yaml")
    Path("b.yaml").symlink_to("a.yaml")
    assert refusal("a.yaml") == "cannot read a.yaml: too many levels of symbolic links (a symlink loop?)"


def test_a_path_under_a_file() -> None:
    Path("plain").write_text("x")
    assert (
        refusal("plain/opsctl.yaml") == "cannot read plain/opsctl.yaml: a part of the path is a file, not a directory"
    )


def test_a_symlink_to_a_regular_file_is_followed() -> None:
    Path("real.yaml").write_bytes(b"a: 1\n")
    Path("opsctl.yaml").symlink_to("real.yaml")
    assert read_regular_file(Path("opsctl.yaml")) == b"a: 1\n"


def test_too_large_is_refused_before_reading() -> None:
    Path("opsctl.yaml").write_bytes(b"x" * (2 * 1024 * 1024 + 512 * 1024))
    assert refusal("opsctl.yaml") == "opsctl.yaml: too large (2.5 MiB; a YAML config file may be at most 1 MiB)"


def test_small_caps_are_named_in_kib_and_bytes() -> None:
    Path("opsctl.yaml").write_bytes(b"x" * 3000)
    assert (
        refusal("opsctl.yaml", limit=2048)
        == "opsctl.yaml: too large (2.9 KiB; a YAML config file may be at most 2 KiB)"
    )
    assert refusal("opsctl.yaml", limit=100) == (
        "opsctl.yaml: too large (2.9 KiB; a YAML config file may be at most 100 bytes)"
    )


def only_for(name: str, real: Callable[..., Any], fake: Callable[..., Any]) -> Callable[..., Any]:
    """``fake`` for calls about ``name``, ``real`` for everything else (pytest itself stats files too)."""

    def call(path: Any, *args: Any, **kwargs: Any) -> Any:
        return fake(path, *args, **kwargs) if os.fspath(path) == name else real(path, *args, **kwargs)

    return call


def test_a_file_that_grows_after_the_stat_is_read_only_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("opsctl.yaml").write_bytes(b"x" * 5000)
    real_stat = os.stat

    def small_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        info = real_stat(path, *args, **kwargs)
        return os.stat_result((*info[:6], 10, *info[7:]))  # st_size: 10 bytes

    monkeypatch.setattr(os, "stat", only_for("opsctl.yaml", real_stat, small_stat))
    assert refusal("opsctl.yaml", limit=100) == (
        "opsctl.yaml: too large (over 100 bytes; a YAML config file may be at most 100 bytes)"
    )


@pytest.mark.timeout(10)
def test_a_file_swapped_for_a_fifo_after_the_stat_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # The stat saw a regular file; by the open it is a fifo: O_NONBLOCK keeps the open from waiting.
    Path("real.yaml").write_text("a: 1\n")
    os.mkfifo("opsctl.yaml")
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", only_for("opsctl.yaml", real_stat, lambda *_a, **_k: real_stat("real.yaml")))
    assert (
        refusal("opsctl.yaml") == "opsctl.yaml: is a named pipe (fifo), not a regular file; expected a YAML config file"
    )


def test_permission_denied_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, for whom chmod 000 changes nothing: make the open fail as it would for a user.
    Path("opsctl.yaml").write_text("a: 1\n")

    def denied(path: Any, *args: Any, **kwargs: Any) -> int:
        raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))

    monkeypatch.setattr(os, "open", only_for("opsctl.yaml", os.open, denied))
    assert refusal("opsctl.yaml") == "cannot read opsctl.yaml: permission denied"


def test_an_io_error_while_reading_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("opsctl.yaml").write_text("a: 1\n")
    real_read = os.read
    opened: list[int] = []
    real_open = os.open

    def remember(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(real_open(path, *args, **kwargs))
        return opened[-1]

    def failing(fd: int, size: int) -> bytes:
        if fd in opened:
            raise OSError(errno.EIO, "Input/output error")
        return real_read(fd, size)

    monkeypatch.setattr(os, "open", only_for("opsctl.yaml", real_open, remember))
    monkeypatch.setattr(os, "read", failing)
    assert refusal("opsctl.yaml") == "cannot read opsctl.yaml: input/output error (a failing disk or network mount?)"
