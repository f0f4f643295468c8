"""A loopback stand-in for the Prometheus HTTP API: real HTTP on 127.0.0.1, answers from a table.

It follows the API reference's JSON (``/api/v1/query`` -> ``{"status":
"success", "data": {"resultType": "vector", "result": [...]}}``, ``/api/v1/query_range``
-> a matrix) and reads from each PromQL text only what the counter source
sends: the range in seconds (``[3600s]``) and whether it asks for 5xx
(``=~"5.."``). Every query is recorded, so tests can pin the PromQL exactly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.servers import send, serve_in_thread, stop_serving, url_of

DAY = 86400
WINDOW = re.compile(r"\[(\d+)s\]")


@dataclass
class FakePrometheus:
    """``counts``: window seconds -> (all requests, bad requests); a missing window has no series.

    ``bad_steps``: the bad requests per bucket that ``query_range`` answers, oldest first.
    ``error``: answer every request with this (status, JSON body) instead.
    """

    counts: dict[int, tuple[float, float]] = field(default_factory=dict)
    bad_steps: list[float] = field(default_factory=list)
    error: tuple[int, dict[str, Any] | str] | None = None  # a str body is sent as HTML
    queries: list[dict[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakePrometheus:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.queries.append({"path": parts.path, **params})
                status, body = fake.answer(parts.path, params)
                if isinstance(body, str):
                    send(self, status, body.encode(), "text/html")
                else:
                    send(self, status, json.dumps(body).encode())

        self._server = serve_in_thread(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
        return self

    def __exit__(self, *exc: object) -> None:
        stop_serving(self._server)

    @property
    def url(self) -> str:
        return url_of(self._server)

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, Any] | str]:
        if self.error is not None:
            return self.error
        query = params.get("query", "")
        match = WINDOW.search(query)
        bad = '=~"5.."' in query
        if path == "/api/v1/query" and match:
            at = float(params.get("time", "0"))
            found = self.counts.get(int(match.group(1)))
            if found is None:
                # `or vector(0)` gives 0 with no 5xx series; a plain sum() over nothing gives no series.
                result = [{"metric": {}, "value": [at, "0"]}] if bad else []
            else:
                result = [{"metric": {}, "value": [at, repr(found[1] if bad else found[0])]}]
            return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}
        if path == "/api/v1/query_range" and match:
            start, step = float(params["start"]), float(params["step"].rstrip("s"))
            values = [[start + i * step, repr(v)] for i, v in enumerate(self.bad_steps)]
            result = [{"metric": {}, "values": values}] if values else []
            return 200, {"status": "success", "data": {"resultType": "matrix", "result": result}}
        return 400, {"status": "error", "errorType": "bad_data", "error": f"unexpected query {query!r}"}

    def asked(self, path: str = "/api/v1/query") -> list[str]:
        return [q["query"] for q in self.queries if q["path"] == path]
