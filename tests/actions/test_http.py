"""``http.get`` against a real HTTP server on 127.0.0.1 (no mocked transport)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from opsctl.engine.outcome import Status
from tests.support.actions import call
from tests.support.context import make_ctx

HEALTH = {
    "status": "ok",
    "version": "1.8.0",
    "dependencies": {"database": {"status": "ok", "latency_ms": 3, "pool_in_use": 4, "pool_size": 20}},
    "regions": [{"name": "eu", "up": True}],
}


class Bot(BaseHTTPRequestHandler):
    hits: list[str]
    api_key = "k3y-for-the-bot-123"

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if self.path == "/health":
            self._send(200, json.dumps(HEALTH), "application/json")
        elif self.path == "/down":
            self._send(503, json.dumps({"status": "down"}), "application/json")
        elif self.path == "/slow":
            time.sleep(0.5)
            self._send(200, json.dumps({"status": "ok"}), "application/json")
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/health")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/text":
            self._send(200, "hello world", "text/plain")
        elif self.path == "/private":
            ok = self.headers.get("X-Api-Key") == self.api_key
            self._send(200 if ok else 401, "{}", "application/json")
        else:
            self._send(404, "not found", "text/plain")

    def _send(self, status: int, body: str, content_type: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def bot() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("BotHandler", (Bot,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_passes_with_status_and_latency(tmp_path: Path, bot: tuple[str, list[str]]) -> None:
    base, _ = bot
    outcome = call(make_ctx(tmp_path), "http.get", url=f"{base}/health")

    assert outcome.status is Status.PASSED
    assert re.fullmatch(r"HTTP 200 in \d+ms", outcome.summary)
    assert outcome.detail["url"] == f"{base}/health"
    assert outcome.detail["status"] == 200


def test_status_mismatch(tmp_path: Path, bot: tuple[str, list[str]]) -> None:
    base, _ = bot
    outcome = call(make_ctx(tmp_path), "http.get", url=f"{base}/down")
    assert outcome.status is Status.FAILED
    assert outcome.summary == "expected HTTP 200, got 503"
    assert outcome.detail["status"] == 503


def test_expected_status_other_than_200(tmp_path: Path, bot: tuple[str, list[str]]) -> None:
    base, _ = bot
    assert call(make_ctx(tmp_path), "http.get", url=f"{base}/down", status=503).status is Status.PASSED


def test_json_fields_match_by_path(tmp_path: Path, bot: tuple[str, list[str]]) -> None:
    base, _ = bot
    fields = {"status": "ok", "dependencies.database.pool_size": 20, "regions.0.up": True, "regions.-1.name": "eu"}
    outcome = call(make_ctx(tmp_path), "http.get", url=f"{base}/health", json=fields)
    assert outcome.status is Status.PASSED


@pytest.mark.parametrize(
    ("fields", "summary"),
    [
        ({"dependencies.database.status": "down"}, "field dependencies.database.status: expected 'down', got 'ok'"),
        ({"dependencies.cache.status": "ok"}, "field dependencies.cache.status is missing from the response"),
        ({"regions.5.name": "eu"}, "field regions.5.name is missing from the response"),
        ({"version": 1.8}, "field version: expected 1.8, got '1.8.0'"),
    ],
)
def test_json_field_mismatch(
    tmp_path: Path, bot: tuple[str, list[str]], fields: dict[str, object], summary: str
) -> None:
    base, _ = bot
    outcome = call(make_ctx(tmp_path), "http.get", url=f"{base}/health", json=fields)
    assert outcome.status is Status.FAILED
    assert outcome.summary == summary


def test_json_fields_on_a_body_that_is_not_json(tmp_path: Path, bot: tuple[str, list[str]]) -> None:
    base, _ = bot
    outcome = call(make_ctx(tmp_path), "http.get", url=f"{base}/text", json={"status": "ok"})
    assert (outcome.status, outcome.summary) == (Status.FAILED, "the response is not JSON")


def test_contains(tmp_path: Path, bot: tuple[str, list[str]]) -> None:
    base, _ = bot
    ctx = make_ctx(tmp_path)
    assert call(ctx, "http.get", url=f"{base}/text", contains="world").status is Status.PASSED
    outcome = call(ctx, "http.get", url=f"{base}/text", contains="bye")
    assert (outcome.status, outcome.summary) == (Status.FAILED, "the response does not contain 'bye'")


def test_max_ms(tmp_path: Path, bot: tuple[str, list[str]]) -> None:
    base, _ = bot
    outcome = call(make_ctx(tmp_path), "http.get", url=f"{base}/slow", max_ms=100)
    assert outcome.status is Status.FAILED
    match = re.fullmatch(r"answered in (\d+)ms, limit 100ms", outcome.summary)
    assert match
    assert int(match[1]) >= 500


def test_timeout(tmp_path: Path, bot: tuple[str, list[str]]) -> None:
    base, _ = bot
    outcome = call(make_ctx(tmp_path), "http.get", url=f"{base}/slow", timeout="100ms")
    assert outcome.status is Status.FAILED
    assert outcome.summary == f"no answer from {base}/slow within the timeout"


def test_connection_refused(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome = call(make_ctx(tmp_path), "http.get", url=f"http://127.0.0.1:{port}/health")
    assert outcome.status is Status.FAILED
    assert outcome.summary == f"cannot connect to http://127.0.0.1:{port}/health: connection refused"


def test_redirect_is_not_followed(tmp_path: Path, bot: tuple[str, list[str]]) -> None:
    base, hits = bot
    before = len(hits)
    outcome = call(make_ctx(tmp_path), "http.get", url=f"{base}/moved")

    assert outcome.status is Status.FAILED
    assert outcome.summary == "expected HTTP 200, got 302 (redirect to /health)"
    assert hits[before:] == ["/moved"]


def test_header_from_env_is_sent_and_masked(
    tmp_path: Path, bot: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = bot
    monkeypatch.setenv("HVB_TEST_API_KEY", Bot.api_key)
    ctx = make_ctx(tmp_path)
    outcome = call(ctx, "http.get", url=f"{base}/private", headers_env={"X-Api-Key": "HVB_TEST_API_KEY"})

    assert outcome.status is Status.PASSED
    assert ctx.redactor.text(f"key={Bot.api_key}") == "key=***"
    monkeypatch.delenv("HVB_TEST_API_KEY")
    assert call(make_ctx(tmp_path), "http.get", url=f"{base}/private").summary == "expected HTTP 200, got 401"
