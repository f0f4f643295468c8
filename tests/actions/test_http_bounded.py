"""``http.get`` against a hostile server on 127.0.0.1: capped bodies, a total deadline, checked header values."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsctl.engine.checklist import time_limit
from opsctl.engine.outcome import Status
from opsctl.errors import BadInput
from tests.support.actions import call
from tests.support.context import make_ctx
from tests.support.hostile import HostileServer

CANARY = "hvb-canary-key-0d9e8f7a6b"
SLACK = 1.0


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer(drip=0.2) as hostile:
        yield hostile


@pytest.mark.parametrize("path", ["/endless", "/gzip-bomb", "/huge-length"])
def test_an_oversized_answer_fails_at_the_cap(tmp_path: Path, server: HostileServer, path: str) -> None:
    started = time.monotonic()
    outcome = call(make_ctx(tmp_path), "http.get", url=server.url(path))
    assert (outcome.status, outcome.summary) == (Status.FAILED, "response too large (over 1 MiB)")
    assert outcome.detail == {"url": server.url(path)}
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_dripping_answer_fails_within_the_timeout(tmp_path: Path, server: HostileServer, path: str) -> None:
    started = time.monotonic()
    outcome = call(make_ctx(tmp_path), "http.get", url=server.url(path), timeout="1s")
    assert (outcome.status, outcome.summary) == (Status.FAILED, f"no answer from {server.url(path)} within the timeout")
    assert 1.0 <= time.monotonic() - started < 1.0 + SLACK


def test_the_request_ends_with_the_item(tmp_path: Path, server: HostileServer) -> None:
    started = time.monotonic()
    with time_limit(1.0):
        outcome = call(make_ctx(tmp_path), "http.get", url=server.url("/drip"), timeout="30s")
    assert outcome.status is Status.FAILED
    assert time.monotonic() - started < 1.0 + SLACK


def test_a_header_value_with_a_trailing_newline_is_sent_without_it(
    tmp_path: Path, server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.answer("/private", body={"ok": True})
    monkeypatch.setenv("HVB_TEST_API_KEY", CANARY + "\n")
    ctx = make_ctx(tmp_path)
    outcome = call(ctx, "http.get", url=server.url("/private"), headers_env={"X-Api-Key": "HVB_TEST_API_KEY"})
    assert outcome.status is Status.PASSED
    assert server.requests[-1].headers["x-api-key"] == CANARY
    assert ctx.redactor.text(f"key={CANARY}") == "key=***"


def test_a_header_value_with_a_control_character_is_refused_by_name(
    tmp_path: Path, server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HVB_TEST_API_KEY", CANARY[:8] + "\r\n" + CANARY[8:])
    with pytest.raises(BadInput) as caught:
        call(make_ctx(tmp_path), "http.get", url=server.url("/private"), headers_env={"X-Api-Key": "HVB_TEST_API_KEY"})
    assert str(caught.value) == (
        "environment variable HVB_TEST_API_KEY holds a control character (a line break?); "
        "it cannot be sent as the X-Api-Key header of the http.get request"
    )
    assert server.requests == []
