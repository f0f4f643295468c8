"""The CLI process ends without the interpreter's teardown, and loses nothing by it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A process whose "CLI" is the body below; the end is what run_cli makes of it.
PROLOGUE = """
import atexit, os, sys, threading, time
from opsctl.process.entry import run_cli
OUT = sys.argv[1]
def note(text, _open=open, _out=OUT):  # bound now: builtins are gone late in a teardown
    with _open(_out, "a") as f:
        f.write(text + "\\n")
class Teardown:
    # Seen only if the interpreter tears its modules down (the ordinary exit).
    def __del__(self):
        note("teardown")
KEEP = Teardown()
"""


def _run(tmp_path: Path, body: str) -> tuple[subprocess.CompletedProcess[bytes], list[str]]:
    out = tmp_path / "notes.txt"
    script = tmp_path / "cli.py"
    script.write_text(PROLOGUE + body)
    done = subprocess.run(
        [sys.executable, str(script), str(out)], cwd=REPO, capture_output=True, timeout=60, check=False
    )
    return done, out.read_text().splitlines() if out.exists() else []


@pytest.mark.parametrize(("code", "status"), [("0", 0), ("None", 0), ("1", 1), ("2", 2), ("130", 130), ("256", 0)])
def test_the_exit_code_is_kept_and_teardown_skipped(tmp_path: Path, code: str, status: int) -> None:
    done, notes = _run(tmp_path, f"def main():\n    print('done')\n    sys.exit({code})\nrun_cli(main)\n")
    assert (done.returncode, done.stdout, done.stderr) == (status, b"done\n", b"")
    assert notes == []  # no teardown: the object was never finalised


def test_a_main_that_returns_exits_zero(tmp_path: Path) -> None:
    done, notes = _run(tmp_path, "def main():\n    print('ok')\nrun_cli(main)\n")
    assert (done.returncode, done.stdout, done.stderr, notes) == (0, b"ok\n", b"", [])


def test_atexit_handlers_run_and_their_output_is_flushed(tmp_path: Path) -> None:
    body = (
        "atexit.register(lambda: note('atexit'))\n"
        "atexit.register(lambda: sys.__stdout__.write('from atexit\\n'))\n"
        "def main():\n"
        "    sys.stdout.write('x' * 2_000_000)\n"  # more than any pipe buffer: all of it must arrive
        "    sys.stderr.write('warning\\n')\n"
        "    sys.exit(3)\n"
        "run_cli(main)\n"
    )
    done, notes = _run(tmp_path, body)
    assert done.returncode == 3
    assert done.stdout == b"x" * 2_000_000 + b"from atexit\n"
    assert done.stderr == b"warning\n"
    assert notes == ["atexit"]


def test_a_non_daemon_thread_still_running_is_waited_for(tmp_path: Path) -> None:
    body = (
        "def work():\n"
        "    time.sleep(0.3)\n"
        "    note('thread finished')\n"
        "def main():\n"
        "    threading.Thread(target=work).start()\n"
        "    sys.exit(0)\n"
        "run_cli(main)\n"
    )
    done, notes = _run(tmp_path, body)
    assert done.returncode == 0
    assert notes[0] == "thread finished"  # the ordinary exit: it waits for the thread, then tears down


def test_a_daemon_thread_does_not_hold_the_exit(tmp_path: Path) -> None:
    body = (
        "def main():\n"
        "    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
        "    sys.exit(0)\n"
        "run_cli(main)\n"
    )
    done, notes = _run(tmp_path, body)
    assert (done.returncode, notes) == (0, [])


def test_an_exit_value_that_is_not_a_code_takes_the_ordinary_exit(tmp_path: Path) -> None:
    done, notes = _run(tmp_path, "def main():\n    sys.exit('fatal: broken')\nrun_cli(main)\n")
    assert (done.returncode, done.stderr) == (1, b"fatal: broken\n")
    assert notes == ["teardown"]


def test_an_exception_is_not_swallowed(tmp_path: Path) -> None:
    done, _ = _run(tmp_path, "def main():\n    raise ValueError('boom')\nrun_cli(main)\n")
    assert done.returncode == 1
    assert done.stderr.decode().splitlines()[-1] == "ValueError: boom"


def test_output_to_a_closed_pipe_exits_as_python_would(tmp_path: Path) -> None:
    script = tmp_path / "cli.py"
    script.write_text(PROLOGUE + "def main():\n    print('y' * 1_000_000)\n    sys.exit(0)\nrun_cli(main)\n")
    # The reader goes away at once: the flush fails, and the ordinary exit reports it (status 120).
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "notes.txt")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode in (1, 120), stderr  # print() itself may be the call that fails
    assert b"BrokenPipeError" in stderr


def test_httpx_is_imported_without_its_command_line_client(tmp_path: Path) -> None:
    body = (
        "def main():\n"
        "    import httpx\n"
        "    print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'pygments', 'click'}))\n"
        "    print(callable(httpx.main))\n"
        "run_cli(main)\n"
    )
    done, _ = _run(tmp_path, body)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.decode().splitlines() == ["[]", "True"]


@pytest.mark.parametrize(("given", "seen"), [(None, "__all__"), ("logfire", "logfire")])
def test_pydantic_plugin_discovery_is_off_unless_the_environment_says_otherwise(given: str | None, seen: str) -> None:
    code = (
        "import os\nfrom opsctl.process.entry import run_cli\n"
        "run_cli(lambda: print(os.environ['PYDANTIC_DISABLE_PLUGINS'], flush=True))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if given is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = given
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, seen)
