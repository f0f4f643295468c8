"""The common part of the loopback API stand-ins: a real HTTP server on 127.0.0.1, requests recorded, faults.

Each stand-in (PagerDuty, Statuspage, Slack, GitHub issues) subclasses
:class:`StandIn` and answers in :meth:`StandIn.answer`; this module serves it
with ``ThreadingHTTPServer`` on a free port, so clients go through sockets,
HTTP and JSON exactly as in production.

Control: ``fail_next(count, status, body=None, retry_after=None, method=None,
path=None)`` makes the next matching requests answer ``status`` (with
``Retry-After`` when given) without reaching the API; ``requests`` is the list
of :class:`Recorded` requests (headers lower-cased, the body parsed as JSON
when it is JSON); ``calls(method, path)`` filters it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    count: int
    reply: Reply
    method: str | None
    path: str | None

    def matches(self, method: str, path: str) -> bool:
        return self.method in (None, method) and (self.path is None or path.endswith(self.path))


class StandIn:
    """A stand-in API: subclasses implement :meth:`answer`."""

    name = "api"

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._faults: list[_Fault] = []
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() it first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                stand_in._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @contextmanager
    def running(self) -> Iterator[StandIn]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    # -- control ---------------------------------------------------------------------------------

    def fail_next(
        self,
        count: int,
        status: int,
        body: Any = None,
        *,
        retry_after: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        with self.lock:
            self._faults.append(_Fault(count, Reply(status, body, headers), method, path))

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if method in (None, r.method) and (path is None or r.path.endswith(path))]

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    # -- serving ---------------------------------------------------------------------------------

    def answer(self, request: Recorded) -> Reply:  # pragma: no cover - every stand-in overrides it
        return Reply(404, {"error": "not found"})

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        body: Any = raw.decode("utf-8", "replace") if raw else None
        if raw and "json" in headers.get("content-type", ""):
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        recorded = Recorded(handler.command, parts.path, parse_qs(parts.query), headers, body)
        with self.lock:
            self.requests.append(recorded)
            reply = self._fault(handler.command, parts.path) or self.answer(recorded)
            recorded.status = reply.status
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        handler.send_response(reply.status)
        if data:
            handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in reply.headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _fault(self, method: str, path: str) -> Reply | None:
        for fault in self._faults:
            if fault.count > 0 and fault.matches(method, path):
                fault.count -= 1
                return fault.reply
        return None
