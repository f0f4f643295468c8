"""The audit log file itself: O_NOFOLLOW, regular files only, and OS errors as one line (exit 2)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from opsctl.audit.log import AuditLog
from opsctl.audit.logfile import AuditLogError, write_all
from opsctl.errors import ExitCode
from tests.support.audit import event, make_log
from tests.support.clirunner import one_error, opsctl
from tests.support.context import write_config


@pytest.fixture
def path(tmp_path: Path) -> Path:
    (tmp_path / "state").mkdir()
    return tmp_path / "state" / "audit.jsonl"


def _error(call: object) -> AuditLogError:
    with pytest.raises(AuditLogError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.exit_code is ExitCode.BAD_INPUT
    return caught.value


def test_a_folder_at_the_log_path(path: Path) -> None:
    path.mkdir()
    log = AuditLog(path)
    expected = f"audit log {path}: is a directory, expected a file"
    assert str(_error(lambda: log.append(event(1)))) == expected
    assert str(_error(log.verify)) == expected
    assert str(_error(lambda: list(log.events()))) == expected


def test_a_broken_symlink_at_the_log_path_is_named_and_never_followed(path: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "gone.jsonl", path)
    log = AuditLog(path)
    expected = (
        f"audit log {path}: is a symbolic link (to {tmp_path / 'gone.jsonl'}); the audit log must be a regular "
        "file: replace the link with the file itself"
    )
    assert str(_error(lambda: log.append(event(1)))) == expected
    assert not (tmp_path / "gone.jsonl").exists()  # never created through the link
    assert str(_error(log.verify)) == expected  # not "intact: 0 events"


def test_a_symlink_to_a_real_log_is_refused_too(path: Path, tmp_path: Path) -> None:
    make_log(tmp_path / "real" / "audit.jsonl", 2)
    os.symlink(tmp_path / "real" / "audit.jsonl", path)
    assert "is a symbolic link (to " in str(_error(lambda: AuditLog(path).append(event(3))))
    assert len((tmp_path / "real" / "audit.jsonl").read_bytes().splitlines()) == 2


def test_a_fifo_at_the_log_path_neither_hangs_nor_takes_events(path: Path) -> None:
    os.mkfifo(path)
    log = AuditLog(path)
    expected = f"audit log {path}: is a fifo (named pipe), not a regular file"
    assert str(_error(lambda: log.append(event(1)))) == expected
    assert str(_error(log.verify)) == expected
    assert str(_error(lambda: list(log.events()))) == expected


def test_a_full_disk_on_append_is_one_line(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = make_log(path, 1)

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    assert str(_error(lambda: log.append(event(2)))) == f"audit log {path}: no space left on the device"


def test_a_failing_fsync_is_one_line(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = make_log(path, 1)

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", failing)
    assert str(_error(lambda: log.append(event(2)))) == (
        f"audit log {path}: input/output error (a failing disk or network mount?)"
    )


def test_short_writes_are_continued(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = make_log(path, 1)
    real_write = os.write

    def a_few_bytes(fd: int, data: bytes) -> int:
        return real_write(fd, bytes(data[:7]))

    monkeypatch.setattr(os, "write", a_few_bytes)
    log.append(event(2))
    monkeypatch.undo()
    assert log.verify().events == 2


def test_write_all_gives_up_when_nothing_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "write", lambda _fd, _data: 0)
    with pytest.raises(OSError) as caught:
        write_all(0, b"x")
    assert caught.value.errno == errno.ENOSPC


def test_audit_verify_on_a_broken_symlink_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path)
    (tmp_path / ".opsctl").mkdir()
    os.symlink("nowhere.jsonl", tmp_path / ".opsctl" / "audit.jsonl")
    result = opsctl("--config", str(config), "audit", "verify")
    assert result.code == 2
    assert one_error(result) == (
        "error: audit log .opsctl/audit.jsonl: is a symbolic link (to nowhere.jsonl); the audit log must be a "
        "regular file: replace the link with the file itself"
    )
