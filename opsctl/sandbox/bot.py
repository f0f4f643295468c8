"""A stand-in Hotel Voice Bot implementing the health contract (DESIGN section 4); stdlib only.

Used by the tests and by ``opsctl demo``. It listens on 127.0.0.1 on a free
port, in a background thread, and can be told to misbehave::

    bot = BotServer(version="1.8.0").start()
    bot.url                                   # http://127.0.0.1:PORT
    bot.configure(dependencies={"openai": "down"}, latency=0.3)
    bot.reset()                               # healthy again
    bot.stop()                                # (or use it as a context manager)

Endpoints:

- ``GET /health`` -> ``{"status": "ok", "version": "1.8.0"}``
- ``GET /health/dependencies`` -> overall status plus database (with latency
  and pool usage), openai and whatsapp
- ``GET /metrics`` -> Prometheus text: ``http_requests_total{path,status,version}``,
  the histogram ``http_request_duration_seconds{path,version}`` (see
  :mod:`opsctl.sandbox.botmetrics`), ``hvb_db_pool_in_use``, ``hvb_db_pool_size``,
  ``hvb_build_info{version}``
- ``POST /api/messages`` ``{"text": "..."}`` -> ``{"reply": ..., "intent": ...,
  "conversation_id": ...}``; 400 without text, 503 when openai or whatsapp is down

Control API: :meth:`BotServer.configure` takes any field of :class:`Behaviour`:

=====================  ==========================================================
``version``            a tag, a list of tags (instances behind a load balancer,
                       answered in turn) or a callable returning the tag (the
                       demo serves the image the ECS service runs)
``dependencies``       ``{"openai": "down"}``: ok / degraded / down, or None to
                       leave the dependency out of the answer
``pool_in_use/size``   the database pool usage reported (and exported)
``latency``            seconds added before every answer (slow but correct)
``error_rate``         fraction of answers that are 500, spread evenly and
                       deterministically (0.02: the 50th, 100th, ... request)
``status``             answer every request with this status (500, 502, 503)
``hang``               hold each request this many seconds, then close the
                       connection without answering (client timeouts)
``rate_limit``         the next N requests answer 429 with ``Retry-After:
                       retry_after`` seconds
``non_json``           answer 200 with an HTML page instead of JSON
``missing_fields``     keys removed from every JSON answer (``{"version"}``)
``flap_every``         every Nth request answers 500
``redirect_to``        answer 302 to this base URL + the path (another host)
``bad_tag_unhealthy``  a version containing "bad" answers /health with 503
                       ``unhealthy`` and messages with 500 (default True)
``fault_paths``        the faults above apply only to these paths (default all):
                       ``latency=0.5, fault_paths={"/api/messages"}`` makes real
                       traffic slow while ``/health`` stays fast
=====================  ==========================================================

:meth:`BotServer.stop_listening` closes the socket (connection refused) and
:meth:`BotServer.resume` listens again on the same port. ``hits`` counts
requests per path.
"""

from __future__ import annotations

import itertools
import json
import math
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opsctl.sandbox.botmetrics import RequestMetrics

DEFAULT_DEPENDENCIES = ("database", "openai", "whatsapp")
Version = str | Sequence[str] | Callable[[], str]


@dataclass(frozen=True)
class Behaviour:
    """How the bot answers; every field is a knob of :meth:`BotServer.configure`."""

    version: Version = "1.8.0"
    dependencies: dict[str, str | None] = field(default_factory=dict)
    pool_in_use: int = 4
    pool_size: int = 20
    latency: float = 0.0
    error_rate: float = 0.0
    status: int | None = None
    hang: float = 0.0
    rate_limit: int = 0
    retry_after: float = 1.0
    non_json: bool = False
    missing_fields: frozenset[str] = frozenset()
    flap_every: int = 0
    redirect_to: str | None = None
    bad_tag_unhealthy: bool = True
    fault_paths: frozenset[str] | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 makes bursts of probes wait for SYN retransmits
    bot: BotServer


class BotServer:
    """The bot's HTTP server in a background thread, with a control API to make it misbehave."""

    def __init__(self, version: Version = "1.8.0", *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self._initial = Behaviour(version=version)
        self.behaviour = self._initial
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._placeholder: socket.socket | None = None
        self._faulted = 0  # requests the faults applied to (drives error_rate and flap_every)
        self._cycle: itertools.cycle[str] | None = None
        self.hits: Counter[str] = Counter()
        self.answered: Counter[tuple[str, int]] = Counter()
        self.requests = RequestMetrics()  # exported on /metrics; never reset, like a real counter

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> BotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> BotServer:
        """Listen (on a free port the first time) and serve in a daemon thread."""
        self._stopping.clear()
        self._server = _Server((self.host, self.port), _Handler)
        self._server.bot = self
        self.port = self._server.server_address[1]
        # A short poll interval: stop() and stop_listening() wait for it.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="hvb-bot", daemon=True)
        self._thread.start()
        return self

    def stop_listening(self) -> None:
        """Close the listening socket: new connections are refused.

        The port stays bound (without listening) so that no other server on
        the machine takes it meanwhile and answers in our place.
        """
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self._placeholder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._placeholder.bind((self.host, self.port))

    def resume(self) -> None:
        """Listen again on the same port after :meth:`stop_listening`."""
        if self._server is None:
            self._release_placeholder()
            self.start()

    def stop(self) -> None:
        self._stopping.set()  # wakes requests held by hang/latency
        self.stop_listening()
        self._release_placeholder()

    def _release_placeholder(self) -> None:
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None

    def configure(self, **changes: Any) -> None:
        """Change how the bot answers, e.g. ``configure(status=503)``; see the module docstring."""
        known = {f.name for f in fields(Behaviour)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown bot behaviour: {', '.join(sorted(unknown))}")
        for key in ("missing_fields", "fault_paths"):
            if changes.get(key) is not None:
                changes[key] = frozenset(changes[key])
        with self._lock:
            self.behaviour = replace(self.behaviour, **changes)
            if "version" in changes:
                self._cycle = None
            if "error_rate" in changes or "flap_every" in changes:
                self._faulted = 0

    def reset(self) -> None:
        """Back to healthy, serving the version given at construction."""
        with self._lock:
            self.behaviour, self._cycle, self._faulted = self._initial, None, 0

    def current_version(self) -> str:
        version = self.behaviour.version
        if callable(version):
            return version()
        if isinstance(version, str):
            return version
        with self._lock:
            if self._cycle is None:
                self._cycle = itertools.cycle(list(version))
            return next(self._cycle)

    def version_label(self) -> str:
        """The version a request answered by a fault counts under (never advances a list of versions)."""
        version = self.behaviour.version
        if callable(version):
            return version()
        return version if isinstance(version, str) else ",".join(version)

    def _count(self, counter: Counter[Any], key: Any) -> int:
        with self._lock:
            counter[key] += 1
            return int(counter[key])

    def _fault_number(self) -> int:
        with self._lock:
            self._faulted += 1
            return self._faulted

    def _take_rate_limit(self) -> bool:
        with self._lock:
            if self.behaviour.rate_limit <= 0:
                return False
            self.behaviour = replace(self.behaviour, rate_limit=self.behaviour.rate_limit - 1)
            return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; keep-alive must not stall
    server: _Server

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
            self._json(200, _dependencies(b))
        elif method == "GET" and path == "/metrics":
            self._send(200, _metrics(bot, b, version), "text/plain; version=0.0.4")
        elif method == "POST" and path == "/api/messages":
            self._message(b, body, sick, number)
        else:
            self._json(404, {"error": f"no route for {method} {path}"})

    def _fault(self, bot: BotServer, b: Behaviour) -> bool:
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

    def _message(self, b: Behaviour, raw: bytes, sick: bool, number: int) -> None:
        try:
            text = str(json.loads(raw or b"{}").get("text") or "")
        except (ValueError, AttributeError):
            text = ""
        down = [n for n in ("openai", "whatsapp") if _dependency_states(b).get(n) == "down"]
        if not text:
            self._json(400, {"error": "a message needs text"})
        elif sick or down:
            self._json(500 if sick else 503, {"error": f"{down[0]} is down" if down else "internal error"})
        else:
            lowered = text.lower()
            intent = "booking" if ("book" in lowered or "room" in lowered) else "greeting"
            reply = {
                "booking": "I can help you book a room. For which dates?",
                "greeting": "Hello! How can I help with your stay?",
            }[intent]
            self._json(200, {"reply": reply, "intent": intent, "conversation_id": f"c-{number}"})

    def _json(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        missing = self.server.bot.behaviour.missing_fields
        self._send(status, json.dumps(_without(data, missing)), "application/json", headers)

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


def _without(data: Any, missing: frozenset[str]) -> Any:
    if isinstance(data, dict):
        return {k: _without(v, missing) for k, v in data.items() if k not in missing}
    return data


def _dependency_states(b: Behaviour) -> dict[str, str | None]:
    return {**dict.fromkeys(DEFAULT_DEPENDENCIES, "ok"), **b.dependencies}


def _dependencies(b: Behaviour) -> dict[str, Any]:
    states = {k: v for k, v in _dependency_states(b).items() if v is not None}
    deps: dict[str, Any] = {name: {"status": status} for name, status in states.items()}
    if "database" in deps:
        deps["database"].update(latency_ms=3, pool_in_use=b.pool_in_use, pool_size=b.pool_size)
    overall = "down" if "down" in states.values() else "degraded" if "degraded" in states.values() else "ok"
    return {"status": overall, "dependencies": deps}


def _metrics(bot: BotServer, b: Behaviour, version: str) -> str:
    lines = bot.requests.exposition()
    lines += [
        "# TYPE hvb_db_pool_in_use gauge",
        f"hvb_db_pool_in_use {b.pool_in_use}",
        "# TYPE hvb_db_pool_size gauge",
        f"hvb_db_pool_size {b.pool_size}",
        "# TYPE hvb_build_info gauge",
        f'hvb_build_info{{version="{version}"}} 1',
    ]
    return "\n".join(lines) + "\n"
