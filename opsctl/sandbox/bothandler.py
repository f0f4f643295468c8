"""The stand-in bot's HTTP side: routes each request, applies the configured faults, records the answer.

:class:`BotHttpServer` carries the :class:`~opsctl.sandbox.botstate.BotState` its
requests share; :class:`BotRequestHandler` reads the behaviour once per request,
lets a fault answer (or drop) it, and otherwise routes it to the bodies in
:mod:`opsctl.sandbox.botanswers`. Every answer is counted and observed in the
request metrics under the version that served it.
"""

from __future__ import annotations

import json
import math
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opsctl.sandbox.botanswers import dependencies_body, message_answer, metrics_text, without
from opsctl.sandbox.botstate import Behaviour, BotState


class BotHttpServer(ThreadingHTTPServer):
    """A threading HTTP server whose handlers answer from ``bot``."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 makes bursts of probes wait for SYN retransmits
    bot: BotState


class BotRequestHandler(BaseHTTPRequestHandler):
    """One request to the bot: the health contract, metrics and messages, or a configured fault."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; keep-alive must not stall
    server: BotHttpServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo have their own output."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        bot = self.server.bot
        self._started, self._version = time.monotonic(), ""
        path = self.path.split("?", 1)[0]
        body = self.rfile.read(int(self.headers.get("content-length") or 0)) if method == "POST" else b""
        number = bot._count(bot.hits, path)
        b = bot.behaviour
        if (b.fault_paths is None or path in b.fault_paths) and self._fault(bot, b):
            return
        version = self._version = bot.current_version()
        sick = b.bad_tag_unhealthy and "bad" in version
        if method == "GET" and path == "/health":
            self._json(503 if sick else 200, {"status": "unhealthy" if sick else "ok", "version": version})
        elif method == "GET" and path == "/health/dependencies":
            self._json(200, dependencies_body(b))
        elif method == "GET" and path == "/metrics":
            self._send(200, metrics_text(bot.requests, b, version), "text/plain; version=0.0.4")
        elif method == "POST" and path == "/api/messages":
            self._json(*message_answer(b, body, sick, number))
        else:
            self._json(404, {"error": f"no route for {method} {path}"})

    def _fault(self, bot: BotState, b: Behaviour) -> bool:
        """Apply the configured faults; True when one of them answered (or dropped) the request."""
        if b.hang:
            bot._stopping.wait(b.hang)
            self.close_connection = True
            return True
        if b.latency:
            bot._stopping.wait(b.latency)
        n = bot._fault_number()
        if b.redirect_to:
            self._send(302, "", "text/plain", {"Location": b.redirect_to.rstrip("/") + self.path})
        elif bot._take_rate_limit():
            self._json(429, {"error": "rate limited"}, {"Retry-After": f"{b.retry_after:g}"})
        elif b.status is not None:
            self._json(b.status, {"error": f"forced {b.status}"})
        elif (b.flap_every and n % b.flap_every == 0) or math.floor(n * b.error_rate) > math.floor(
            (n - 1) * b.error_rate
        ):
            self._json(500, {"error": "internal error"})
        elif b.non_json:
            self._send(200, "<html><body><h1>It works!</h1></body></html>", "text/html")
        else:
            return False
        return True

    def _json(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        missing = self.server.bot.behaviour.missing_fields
        self._send(status, json.dumps(without(data, missing)), "application/json", headers)

    def _send(self, status: int, text: str, content_type: str, headers: dict[str, str] | None = None) -> None:
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        bot, path = self.server.bot, self.path.split("?", 1)[0]
        bot._count(bot.answered, (path, status))
        started = getattr(self, "_started", time.monotonic())
        version = getattr(self, "_version", "") or bot.version_label()
        bot.requests.observe(path, status, version, time.monotonic() - started)
