"""How the opsctl process starts and ends: the console script and ``python -m opsctl`` both come here.

Ending: once the CLI has returned its exit code, everything a run promises is
already on disk. The audit log is written with ``os.write`` and fsynced per
event, the lock is released and the mirror's queue entry written inside the
run, never by a finaliser. What is left is the interpreter's own teardown:
freeing every module and object one by one, about a tenth of a second after
a deploy. :func:`exit_without_teardown` does what that teardown must still
do (waits for any non-daemon thread, runs the ``atexit`` handlers, flushes
stdout and stderr) and then ends the process with ``os._exit``. Anything
unusual (a thread still working, an exit value that is not a code, output
that cannot be flushed) takes the ordinary exit instead.

Starting: pydantic's plugin discovery (a scan of every installed
distribution's entry points) is turned off unless the environment says
otherwise: opsctl uses no pydantic plugin. httpx imports its optional command-line client (``httpx._main``)
with ``import httpx`` when click and Rich are installed, which pulls in Rich
and Pygments (about as much as the rest of httpx). opsctl never runs that
client, so the CLI process marks it as absent before anything imports httpx;
httpx then defines a stub in its place, as it does when those are missing.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

_UNUSED_MODULES = ("httpx._main",)


def run_cli(main: Callable[[], object]) -> NoReturn:
    """Run ``main`` (the Typer app) as the whole process: skip unused imports, then exit without teardown."""
    # pydantic looks for plugins by scanning every installed distribution's entry points when the
    # first model is built (0.1-0.2 s in a full environment); opsctl uses none. An explicit setting wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    for name in _UNUSED_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type] # None makes `import name` fail at once
    try:
        main()
    except SystemExit as done:
        exit_without_teardown(done.code)
    exit_without_teardown(0)


def exit_without_teardown(code: object) -> NoReturn:
    """End the process with ``code`` after the teardown work that matters, skipping the rest.

    Falls back to an ordinary ``sys.exit`` (full teardown) when it cannot be
    sure nothing is lost: ``code`` is not an int or None, another non-daemon
    thread is still running (the interpreter would wait for it), this is
    not the main thread, or the standard streams cannot be flushed.
    """
    if not (code is None or isinstance(code, int)) or not _only_main_thread_left():
        raise SystemExit(code)
    status = 0 if code is None else code
    atexit._run_exitfuncs()  # what Py_Finalize runs; it also clears them, so a fallback does not repeat them
    if not _flushed():
        sys.exit(status)
    os._exit(status & 0xFF)  # as exit(3) takes it: -1 is 255


def _only_main_thread_left() -> bool:
    """In the main thread, with every other thread a daemon (which the interpreter would not wait for)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    return all(t.daemon or t is threading.main_thread() for t in threading.enumerate() if t.is_alive())


def _flushed() -> bool:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is None or stream.closed:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            return False
    return True
