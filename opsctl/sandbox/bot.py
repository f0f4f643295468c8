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

This module is the server's lifecycle; the state and control API are in
:mod:`opsctl.sandbox.botstate`, the HTTP routing and faults in
:mod:`opsctl.sandbox.bothandler`, the endpoint bodies in
:mod:`opsctl.sandbox.botanswers` and the request metrics in
:mod:`opsctl.sandbox.botmetrics`.
"""

from __future__ import annotations

import socket
import threading

from opsctl.sandbox.bothandler import BotHttpServer, BotRequestHandler
from opsctl.sandbox.botstate import DEFAULT_DEPENDENCIES, Behaviour, BotState, Version

# Re-exported: callers import the whole stand-in bot from here.
__all__ = ["DEFAULT_DEPENDENCIES", "Behaviour", "BotServer", "BotState", "Version"]


class BotServer(BotState):
    """The bot's HTTP server in a background thread, with a control API to make it misbehave."""

    def __init__(self, version: Version = "1.8.0", *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(version)
        self.host, self.port = host, port
        self._server: BotHttpServer | None = None
        self._thread: threading.Thread | None = None
        self._placeholder: socket.socket | None = None

    @property
    def url(self) -> str:
        """The base URL to send requests to, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> BotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> BotServer:
        """Listen (on a free port the first time) and serve in a daemon thread."""
        self._stopping.clear()
        self._server = BotHttpServer((self.host, self.port), BotRequestHandler)
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
        """Stop serving and free the port; requests still held by a fault are let go."""
        self._stopping.set()  # wakes requests held by hang/latency
        self.stop_listening()
        self._release_placeholder()

    def _release_placeholder(self) -> None:
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None
