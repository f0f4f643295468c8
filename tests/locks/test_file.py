"""The file lock's fencing: tokens, generations, and check() finding a broken or taken-over lock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from opsctl.errors import BadInput, ExitCode, Locked
from opsctl.locks.base import FencingToken, LockInfo, LockLost
from opsctl.locks.file import FileLockBackend, FileLockHandle

REPO = Path(__file__).resolve().parents[2]


def info(run: str, actor: str = "alice@example.com") -> LockInfo:
    return LockInfo.for_run("staging", run, actor, "deploy", run)


@pytest.fixture
def backend(tmp_path: Path) -> FileLockBackend:
    return FileLockBackend(tmp_path / ".opsctl" / "locks")


def test_every_acquisition_gets_a_new_token_and_the_next_generation(backend: FileLockBackend) -> None:
    first = backend.acquire(info("r1"))
    assert first.token.generation == 1
    assert len(first.token.id) == 32
    first.release()
    second = backend.acquire(info("r2"))
    assert second.token.generation == 2
    assert second.token.id != first.token.id
    assert backend.generation_path("staging").read_text() == "2\n"
    holder = json.loads(backend.holder_path("staging").read_text())
    assert holder["token"] == {"id": second.token.id, "generation": 2}
    assert backend.read_token("staging") == second.token
    assert str(second.token) == "generation 2"
    second.check()  # still ours: no error
    assert not second.lost
    second.release()


def test_the_status_and_holder_file_keep_the_token_out_of_the_lock_info(backend: FileLockBackend) -> None:
    handle = backend.acquire(info("r1"))
    assert backend.status("staging") == handle.info
    assert "token" not in handle.info.as_dict()
    handle.release()


def test_a_forced_release_is_found_by_check_and_the_counter_survives_it(backend: FileLockBackend) -> None:
    handle = backend.acquire(info("r1"))
    assert backend.force_release("staging", None) == handle.info
    assert not backend.lock_path("staging").exists()
    with pytest.raises(LockLost) as lost:
        handle.check()
    assert str(lost.value) == "lost the lock on staging: it was broken or taken over"
    assert lost.value.exit_code is ExitCode.NEEDS_HUMAN
    assert lost.value.holder is None
    assert lost.value.token == handle.token
    assert handle.lost
    with pytest.raises(LockLost):  # once lost, always lost
        handle.check()
    handle.release()
    assert backend.acquire(info("r2")).token.generation == 2  # generations never go back


def test_a_lock_taken_over_after_a_break_fences_the_old_holder_out(backend: FileLockBackend) -> None:
    old = backend.acquire(info("r-old"))
    backend.force_release("staging", None)
    new = backend.acquire(info("r-new", actor="bob@example.com"))
    assert new.token.generation > old.token.generation
    with pytest.raises(LockLost) as lost:
        old.check()
    assert lost.value.holder == new.info  # who holds it now, for the old run's message
    new.check()
    old.release()  # the old holder's late release must not remove the new holder's file
    assert backend.status("staging") == new.info
    assert backend.read_token("staging") == new.token
    new.release()
    assert backend.status("staging") is None


def test_a_holder_file_that_names_another_token_means_the_lock_is_not_ours(backend: FileLockBackend) -> None:
    handle = backend.acquire(info("r1"))
    data = json.loads(backend.holder_path("staging").read_text())
    data["token"] = {"id": "someone-else", "generation": 9}
    backend.holder_path("staging").write_text(json.dumps(data))
    with pytest.raises(LockLost):
        handle.check()
    handle.release()


def test_a_release_between_open_and_flock_locks_the_new_file_instead(
    backend: FileLockBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    import opsctl.locks.file as file_module

    real_flock = fcntl.flock
    raced: list[FileLockHandle] = []

    def flock(fd: int, operation: int) -> None:
        if not raced and operation & fcntl.LOCK_EX:
            # Another process breaks the lock and takes it between our open and our flock.
            monkeypatch.setattr(file_module.fcntl, "flock", real_flock)
            backend.force_release("staging", None)
            handle = FileLockBackend(backend.folder).acquire(info("r-fast", actor="bob@example.com"))
            assert isinstance(handle, FileLockHandle)
            raced.append(handle)
            monkeypatch.setattr(file_module.fcntl, "flock", flock)
        real_flock(fd, operation)

    backend.folder.mkdir(parents=True)
    backend.lock_path("staging").touch()
    monkeypatch.setattr(file_module.fcntl, "flock", flock)
    with pytest.raises(Locked) as locked:
        backend.acquire(info("r-slow"))
    assert "staging is locked by run r-fast (deploy) by bob@example.com" in str(locked.value)
    raced[0].release()


def test_a_damaged_generation_counter_is_one_clear_line(backend: FileLockBackend) -> None:
    backend.folder.mkdir(parents=True)
    backend.generation_path("staging").write_text("seven\n")
    with pytest.raises(BadInput) as bad:
        backend.acquire(info("r1"))
    assert str(bad.value) == (
        f"{backend.generation_path('staging')}: not a lock generation number ('seven'); write the last "
        "generation into it (0 if unknown) while no run holds staging's lock"
    )
    assert backend.status("staging") is None  # the flock was given back


def test_a_file_where_the_locks_folder_goes_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / ".opsctl").mkdir()
    (tmp_path / ".opsctl" / "locks").write_text("not a folder")
    with pytest.raises(BadInput) as bad:
        FileLockBackend(tmp_path / ".opsctl" / "locks").acquire(info("r1"))
    assert str(bad.value) == (
        f"state folder {tmp_path / '.opsctl' / 'locks'}: not a directory; fix it or set state_dir in opsctl.yaml"
    )


def test_a_symlink_at_the_lock_path_is_never_followed(backend: FileLockBackend, tmp_path: Path) -> None:
    backend.folder.mkdir(parents=True)
    os.symlink(tmp_path / "elsewhere", backend.lock_path("staging"))
    with pytest.raises(BadInput) as bad:
        backend.acquire(info("r1"))
    assert str(bad.value) == (
        f"deploy lock {backend.lock_path('staging')}: is a symbolic link; lock files must be regular files"
    )
    assert not (tmp_path / "elsewhere").exists()
    with pytest.raises(BadInput) as status:
        backend.status("staging")
    assert str(status.value) == str(bad.value)


def test_alive_here_asks_the_process_table_of_this_host_only() -> None:
    here = socket.gethostname()
    assert LockInfo("staging", "r", "a", "deploy", "r", here, os.getpid()).alive_here()
    assert not LockInfo("staging", "r", "a", "deploy", "r", "another-host", os.getpid()).alive_here()
    assert not LockInfo("staging", "r", "a", "deploy", "r", here, 0).alive_here()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert not LockInfo("staging", "r", "a", "deploy", "r", here, gone.pid).alive_here()


def test_a_holder_in_another_process_finds_its_lock_broken(backend: FileLockBackend) -> None:
    # The holder is a real process that keeps its flock on the unlinked file, as a run waiting at a prompt would.
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from opsctl.locks.base import LockInfo, LockLost
        from opsctl.locks.file import FileLockBackend
        backend = FileLockBackend(Path({str(backend.folder)!r}))
        handle = backend.acquire(LockInfo.for_run("staging", "r-held", "alice@example.com", "deploy", "r-held"))
        print("held", handle.token.generation, flush=True)
        sys.stdin.readline()
        try:
            handle.check()
            print("still ours", flush=True)
        except LockLost as lost:
            print("lost;", lost.holder.run if lost.holder else None, flush=True)
        handle.release()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert holder.stdout is not None
    assert holder.stdin is not None
    assert holder.stdout.readline() == "held 1\n"
    held = backend.status("staging")
    assert held is not None
    assert held.pid == holder.pid
    assert held.alive_here()
    backend.force_release("staging", None)
    taker = backend.acquire(info("r-next", actor="bob@example.com"))
    assert taker.token == FencingToken(taker.token.id, 2)
    holder.stdin.write("go\n")
    holder.stdin.flush()
    assert holder.stdout.readline() == "lost; r-next\n"
    assert holder.wait(timeout=30) == 0
    assert backend.status("staging") == taker.info  # the old holder's release left the new lock alone
    taker.release()
