"""``command``: argv (never a shell), cwd, env, exit code, timeout of the whole process group, redacted tail."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from opsctl.engine.outcome import Status
from tests.support.actions import call
from tests.support.context import base_config, make_ctx
from tests.support.util import py

SECRET = "hvb-hook-9f8e7d6c5b4a"


def test_argv_is_passed_literally_without_a_shell(tmp_path: Path) -> None:
    argv = py("import json, sys; print(json.dumps(sys.argv[1:]))", "a b", "$HOME", "*", "; rm -rf /")
    outcome = call(make_ctx(tmp_path), "command", argv=argv)

    assert outcome.status is Status.PASSED
    assert json.loads(outcome.detail["output_tail"][-1]) == ["a b", "$HOME", "*", "; rm -rf /"]
    assert outcome.detail["argv"] == argv
    assert outcome.detail["exit_code"] == 0
    assert re.fullmatch(r"exit 0 in (\d+ms|\d+\.\ds): " + re.escape(" ".join(argv)), outcome.summary)


def test_runs_in_the_project_folder_by_default(tmp_path: Path) -> None:
    outcome = call(make_ctx(tmp_path), "command", argv=py("import os; print(os.getcwd())"))
    assert outcome.detail["output_tail"] == [str(tmp_path.resolve())]


def test_relative_cwd_is_relative_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    outcome = call(make_ctx(tmp_path), "command", argv=py("import os; print(os.getcwd())"), cwd="sub")
    assert outcome.detail["output_tail"] == [str((tmp_path / "sub").resolve())]


def test_missing_cwd(tmp_path: Path) -> None:
    outcome = call(make_ctx(tmp_path), "command", argv=["true"], cwd="nope")
    assert outcome.status is Status.FAILED
    assert outcome.summary == f"working directory {tmp_path.resolve() / 'nope'} does not exist"


def test_env_is_added_to_the_inherited_environment(tmp_path: Path) -> None:
    argv = py("import os; print(os.environ['GREETING'], 'PATH' in os.environ)")
    outcome = call(make_ctx(tmp_path), "command", argv=argv, env={"GREETING": "hello"})
    assert outcome.detail["output_tail"] == ["hello True"]


def test_failure_names_the_exit_code_and_the_last_output_line(tmp_path: Path) -> None:
    argv = py("import sys; print('step 1 ok'); print('fatal: no space left'); print(); sys.exit(4)")
    outcome = call(make_ctx(tmp_path), "command", argv=argv)

    assert outcome.status is Status.FAILED
    assert outcome.summary == f"exit 4 (expected 0): {' '.join(argv)} — fatal: no space left"
    assert outcome.detail["exit_code"] == 4


def test_expected_exit_code(tmp_path: Path) -> None:
    outcome = call(make_ctx(tmp_path), "command", argv=py("import sys; sys.exit(3)"), exit_code=3)
    assert outcome.status is Status.PASSED
    assert outcome.summary.startswith("exit 3 in ")


def test_command_not_found(tmp_path: Path) -> None:
    outcome = call(make_ctx(tmp_path), "command", argv=["no-such-program-xyz", "--version"])
    assert outcome.status is Status.FAILED
    assert outcome.summary == "command not found: no-such-program-xyz (is it installed and on PATH?)"


def test_command_not_executable(tmp_path: Path) -> None:
    script = tmp_path / "deploy.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    outcome = call(make_ctx(tmp_path), "command", argv=[str(script)])
    assert outcome.status is Status.FAILED
    assert outcome.summary == f"command not executable: {script}"


def test_output_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    argv = py("for i in range(50): print('line', i)")
    outcome = call(make_ctx(tmp_path), "command", argv=argv, tail=3)
    assert outcome.detail["output_tail"] == ["line 47", "line 48", "line 49"]
    assert call(make_ctx(tmp_path), "command", argv=argv, tail=0).detail["output_tail"] == []


def test_output_that_is_not_utf8_is_kept_readable(tmp_path: Path) -> None:
    argv = py("import sys; sys.stdout.buffer.write(b'caf\\xe9 ok\\n')")
    outcome = call(make_ctx(tmp_path), "command", argv=argv)
    assert outcome.detail["output_tail"] == ["caf\ufffd ok"]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z"


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild"
    argv = py(
        """
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        open(sys.argv[1], "w").write(str(child.pid))
        print("waiting for the grandchild")
        time.sleep(30)
        """,
        str(pid_file),
    )
    started = time.monotonic()
    outcome = call(make_ctx(tmp_path), "command", argv=argv, timeout="1s")

    assert time.monotonic() - started < 5
    assert outcome.status is Status.FAILED
    assert outcome.summary == f"timed out after 1.0s: {' '.join(argv)}"
    assert outcome.detail["output_tail"] == ["waiting for the grandchild"]
    grandchild = int(pid_file.read_text())
    try:
        deadline = time.monotonic() + 3
        while not _gone(grandchild) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(grandchild)
    finally:
        if not _gone(grandchild):
            os.kill(grandchild, signal.SIGKILL)


def test_secret_from_a_named_env_var_is_masked_in_the_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVB_TEST_HOOK", SECRET)
    config = base_config(notify={"slack": {"webhook_env": "HVB_TEST_HOOK"}})
    ctx = make_ctx(tmp_path, config)
    argv = py("import os, sys; print('posting to', os.environ['HVB_TEST_HOOK']); sys.exit(1)")

    outcome = call(ctx, "command", argv=argv)

    assert outcome.detail["output_tail"] == ["posting to ***"]
    assert outcome.summary.endswith(" — posting to ***")
    assert SECRET not in json.dumps(outcome.detail)


def test_uses_the_interpreter_given(tmp_path: Path) -> None:
    # Guards the helpers above: `py` runs this interpreter, not whatever `python` is on PATH.
    outcome = call(make_ctx(tmp_path), "command", argv=py("import sys; print(sys.executable)"))
    assert outcome.detail["output_tail"] == [sys.executable]
