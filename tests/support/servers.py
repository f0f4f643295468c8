"""Real servers for tests, on 127.0.0.1: a free port, waiting for ready, a server binary's whole life.

::

    port = free_port()
    with server_process([binary, f"--web.listen-address=127.0.0.1:{port}"], home / "server.log",
                        ready_url=f"http://127.0.0.1:{port}/-/ready", what="Prometheus") as process:
        ...

:func:`server_process` starts a Debian server binary (Prometheus,
Alertmanager, the OCI registry) with its output in a log file, waits until
it answers (failing at once, with the log, when it exits instead) and stops
it at the end: SIGTERM, then SIGKILL if it lingers.

An in-process stand-in (a ``BaseHTTPRequestHandler``) is served the same way
every time: :func:`serve_in_thread` on a server bound to ``("127.0.0.1", 0)``,
:func:`url_of` for its base URL, :func:`stop_serving` at the end, and
:func:`send` for an answer with its length.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

_S = TypeVar("_S", bound=ThreadingHTTPServer)


def free_port() -> int:
    """A TCP port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(ready: Callable[[], Any], what: str, timeout: float = 20.0) -> None:
    """Until ``ready()`` is true (OSError and ValueError count as not yet); AssertionError naming ``what``."""
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        with contextlib.suppress(OSError, ValueError):
            if ready():
                return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def answers(url: str, *also: int) -> bool:
    """Whether ``url`` answers 200 (or one of ``also``, e.g. a registry's 401 before a token)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return int(answer.status) == 200
    except urllib.error.HTTPError as exc:
        return exc.code in also


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGTERM, and SIGKILL when it has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def server_process(
    argv: Sequence[str],
    log: Path,
    *,
    ready: Callable[[], Any] | None = None,
    ready_url: str | None = None,
    what: str,
    timeout: float = 20.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` (output to ``log``) until the block ends; first wait for ``ready()`` or ``ready_url``'s 200."""
    check = ready if ready is not None else (lambda: answers(str(ready_url)))
    with log.open("wb") as out:
        process = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT)
    try:

        def up() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"{what} exited with {process.returncode}: {log.read_text(errors='replace')}")
            return bool(check())

        wait_until(up, what, timeout)
        yield process
    finally:
        stop_process(process)


def serve_in_thread(server: _S) -> _S:
    """``server`` answering from a daemon thread (and a thread per request) until :func:`stop_serving`."""
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def stop_serving(server: ThreadingHTTPServer | None) -> None:
    """Stop a server :func:`serve_in_thread` started, and close its socket."""
    assert server is not None, "it was never started"
    server.shutdown()
    server.server_close()


def url_of(server: ThreadingHTTPServer | None) -> str:
    """``http://127.0.0.1:PORT`` of a started server."""
    assert server is not None, "start it first"
    return f"http://127.0.0.1:{server.server_address[1]}"


def send(handler: BaseHTTPRequestHandler, status: int, payload: bytes, content_type: str = "application/json") -> None:
    """One whole answer, with its Content-Length (HTTP/1.1 keep-alive handlers need it)."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)
