"""A wall-clock deadline and a size cap for every Kubernetes API request, under the official client.

The client reads through urllib3, whose timeouts bound each socket read, not
a request: an API server (or a proxy in front of it) that sends its headers
one byte a second holds a call forever, and one that streams an endless body
fills memory (urllib3 reads an error body whole). opsctl's own HTTP clients
go through :mod:`opsctl.net.bounded`; this module gives the Kubernetes client
the same two bounds at the one place every byte passes, the socket:

- :func:`install` makes the client's connection pools open connections whose
  socket reads end by the deadline of the running :func:`limits` scope (each
  read's timeout is shortened to the time left), and count the bytes received;
- :func:`limits` opens that scope around one API call; past its deadline or
  its byte cap, reads raise :class:`Exceeded` (an ``OSError``, so urllib3
  reports it as a failed request, and the caller tells which bound was hit).

Outside a scope the sockets behave as urllib3 made them.
"""

from __future__ import annotations

import contextvars
import io
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

MAX_ANSWER = 8 * 1024 * 1024  # 8 MiB: a list of hundreds of pods; far above any answer opsctl reads


@dataclass
class Limits:
    """One call's bounds: ``deadline`` (``time.monotonic()``) and ``max_bytes`` received; what was hit."""

    deadline: float
    max_bytes: int
    received: int = 0
    hit: str | None = None  # "deadline" or "size", once a read went past it


class Exceeded(OSError):
    """A read went past the running call's deadline or byte cap."""


_current: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("kube_limits", default=None)


@contextmanager
def limits(seconds: float, max_bytes: int = MAX_ANSWER) -> Iterator[Limits]:
    """Bound every socket read of the enclosed API call: done within ``seconds``, at most ``max_bytes``."""
    scope = Limits(time.monotonic() + seconds, max_bytes)
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


class _BoundedSocket:
    """A connected socket (plain or TLS) whose reads honour the running :class:`Limits`."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._io_refs = 0
        self._closing = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def makefile(self, *_: Any, **__: Any) -> Any:
        # http.client reads the answer through this file ("rb"): route it through recv_into below.
        self._io_refs += 1
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]
        return io.BufferedReader(raw)

    def _decref_socketios(self) -> None:
        # As socket.socket does: the connection closes once its last file (the answer being read) is closed.
        self._io_refs -= 1
        if self._closing and self._io_refs <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closing = True
        if self._io_refs <= 0:
            self._sock.close()

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        scope = _current.get()
        if scope is None:
            return int(self._sock.recv_into(buffer, nbytes, flags))
        left = scope.deadline - time.monotonic()
        if left <= 0:
            scope.hit = "deadline"
            raise Exceeded("the request's total time limit was reached")
        before = self._sock.gettimeout()
        self._sock.settimeout(left if before is None else min(before, left))
        try:
            count = int(self._sock.recv_into(buffer, nbytes, flags))
        except TimeoutError:
            if time.monotonic() >= scope.deadline:
                scope.hit = "deadline"
            raise
        finally:
            self._sock.settimeout(before)
        scope.received += count
        if scope.received > scope.max_bytes:
            scope.hit = "size"
            raise Exceeded("the answer is larger than opsctl reads")
        return count

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = bytearray(bufsize)
        count = self.recv_into(data, bufsize, flags)
        return bytes(data[:count])


def install(pool_manager: Any) -> None:
    """Make ``pool_manager`` (the client's urllib3 PoolManager) open bounded connections from now on."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class BoundedHTTPConnection(HTTPConnection):
        def connect(self) -> None:
            super().connect()
            self.sock = _BoundedSocket(self.sock)

    class BoundedHTTPSConnection(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            self.sock = _BoundedSocket(self.sock)

    class BoundedHTTPPool(HTTPConnectionPool):
        ConnectionCls = BoundedHTTPConnection

    class BoundedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = BoundedHTTPSConnection

    pool_manager.clear()
    pool_manager.pool_classes_by_scheme = {"http": BoundedHTTPPool, "https": BoundedHTTPSPool}
