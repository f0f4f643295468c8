"""A raw-socket HTTP/1.1 server on 127.0.0.1 that misbehaves on purpose, one behaviour per path.

Real sockets, so clients go through httpx, httpcore and h11 exactly as in
production. Every answer closes its connection. Paths:

- ``/endless``: 200, chunked, 64 KiB chunks of ``x`` for as long as the client reads;
- ``/gzip-bomb``: 200, ``Content-Encoding: gzip``, 10 MB of zeros gzipped (about 10 KB on the wire);
- ``/drip``: 200 headers at once, then a JSON-looking body one byte every ``drip`` seconds, forever;
- ``/drip-headers``: the status line and headers themselves one byte every ``drip`` seconds;
- ``/huge-length``: 200 with ``Content-Length: 10 GiB``, then 1 KiB and a pause;
- anything added with :meth:`HostileServer.answer` (status, headers, body), e.g. a normal ``/health``;
- any path given one of the behaviours above with :meth:`HostileServer.misbehave`.

``requests`` records every request's method, path and headers (lower-case names).
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

Handler = Callable[["HostileServer", socket.socket], None]


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]


@cache
def gzip_bomb() -> bytes:
    """10 MB of zeros, gzipped once per test session."""
    return gzip.compress(b"\0" * 10_000_000, compresslevel=9)


@dataclass
class HostileServer:
    drip: float = 0.2  # seconds between bytes of /drip and /drip-headers
    requests: list[Received] = field(default_factory=list)
    _answers: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    _routes: dict[str, str] = field(default_factory=dict)  # path -> one of the behaviour paths above
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> HostileServer:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True, name="hostile-http")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def answer(self, path: str, status: int = 200, body: Any = b"", headers: dict[str, str] | None = None) -> None:
        """A well-formed answer at ``path``; a dict or list ``body`` is sent as JSON."""
        if isinstance(body, dict | list):
            data = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        else:
            data = body.encode() if isinstance(body, str) else body
        self._answers[path] = (status, dict(headers or {}), data)

    def misbehave(self, path: str, like: str) -> None:
        """Serve ``path`` the way ``like`` (``/endless``, ``/drip`` ...) is served, e.g. an API's real path."""
        self._routes[path] = like

    # -- serving ---------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = self._read_request(conn)
                if request is None:
                    return
                self.requests.append(request)
                path = request.path.split("?", 1)[0]
                handler = ROUTES.get(self._routes.get(path, path))
                if handler is not None:
                    handler(self, conn)
                elif path in self._answers:
                    status, headers, data = self._answers[path]
                    conn.sendall(head(status, {**headers, "Content-Length": str(len(data))}) + data)
                else:
                    conn.sendall(head(404, {"Content-Length": "9"}) + b"not found")
            except OSError:
                return  # the client gave up: that is the point of most paths

    def _read_request(self, conn: socket.socket) -> Received | None:
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        header_text, _, rest = data.partition(b"\r\n\r\n")
        lines = header_text.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return Received(method, target, headers)

    def sleep(self, seconds: float) -> bool:
        """Wait; True when the server is stopping (so endless behaviours end with the test)."""
        return self._stop.wait(seconds)


def head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _endless(server: HostileServer, conn: socket.socket) -> None:
    conn.sendall(head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
    chunk = b"x" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while not server._stop.is_set():
        conn.sendall(framed)


def _gzip_bomb(server: HostileServer, conn: socket.socket) -> None:
    data = gzip_bomb()
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip", "Content-Length": str(len(data))}
    conn.sendall(head(200, headers) + data)


def _drip(server: HostileServer, conn: socket.socket) -> None:
    conn.sendall(head(200, {"Content-Type": "application/json", "Content-Length": "1000000"}))
    body = b'{"status": "ok", "padding": "' + b"x" * 1_000_000
    for byte in body:
        conn.sendall(bytes([byte]))
        if server.sleep(server.drip):
            return


def _drip_headers(server: HostileServer, conn: socket.socket) -> None:
    padding = "x" * 100_000
    for byte in head(200, {"Content-Type": "application/json", "X-Padding": padding}):
        conn.sendall(bytes([byte]))
        if server.sleep(server.drip):
            return


def _huge_length(server: HostileServer, conn: socket.socket) -> None:
    conn.sendall(head(200, {"Content-Type": "application/json", "Content-Length": str(10 << 30)}) + b"x" * 1024)
    server.sleep(5)


ROUTES: dict[str, Handler] = {
    "/endless": _endless,
    "/gzip-bomb": _gzip_bomb,
    "/drip": _drip,
    "/drip-headers": _drip_headers,
    "/huge-length": _huge_length,
}
