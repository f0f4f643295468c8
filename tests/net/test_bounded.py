"""The bounded reader and the deadline against a real misbehaving server on 127.0.0.1."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
import tracemalloc
import zlib
from collections.abc import Iterator

import httpx
import pytest

from opsctl.net import bounded
from opsctl.net.backend import DeadlineBackend
from opsctl.net.bounded import ResponseTooLarge, format_size, read_capped, send
from opsctl.net.deadline import Deadline
from tests.support.hostile import HostileServer, gzip_bomb

SLACK = 1.0  # seconds a deadline may be overrun by (thread scheduling, one last socket read)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer(drip=0.2) as hostile:
        yield hostile


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with bounded.client(timeout=5.0) as made:
        yield made


def get(http: httpx.Client, url: str, seconds: float = 5.0, **kwargs: object) -> httpx.Response:
    return send(http, "GET", url, deadline=Deadline.after(seconds), **kwargs)  # type: ignore[arg-type]


# -- size -------------------------------------------------------------------------------------


def test_an_endless_chunked_body_stops_at_the_cap(server: HostileServer, http: httpx.Client) -> None:
    started = time.monotonic()
    with pytest.raises(ResponseTooLarge) as caught:
        get(http, server.url("/endless"))
    assert str(caught.value) == "response too large (over 1 MiB)"
    assert caught.value.status == 200
    assert time.monotonic() - started < 2.0


def test_a_gzip_bomb_stops_at_the_cap_counting_decoded_bytes(server: HostileServer, http: httpx.Client) -> None:
    gzip_bomb()  # made (10 MB of zeros) before measuring, so that only the client is measured
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLarge) as caught:
            get(http, server.url("/gzip-bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(caught.value) == "response too large (over 1 MiB)"
    # 10 MB decoded would be there at once if a whole network read were inflated first.
    assert peak < 6 * 1024 * 1024


def test_a_declared_length_over_the_cap_fails_before_reading(server: HostileServer, http: httpx.Client) -> None:
    started = time.monotonic()
    with pytest.raises(ResponseTooLarge, match=r"^response too large \(over 1 MiB\)$"):
        get(http, server.url("/huge-length"))
    assert time.monotonic() - started < 1.0  # the server holds the rest for 5s: it was not waited for


def test_the_cap_is_a_keyword(server: HostileServer, http: httpx.Client) -> None:
    server.answer("/big", body=b"y" * 2048)
    with pytest.raises(ResponseTooLarge, match=r"^response too large \(over 1 KiB\)$"):
        get(http, server.url("/big"), max_bytes=1024)
    assert get(http, server.url("/big"), max_bytes=2048).content == b"y" * 2048


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as HTTP means it
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
    ],
)
def test_compressed_bodies_under_the_cap_are_decoded(
    server: HostileServer, http: httpx.Client, coding: str, encode: object
) -> None:
    body = b'{"status": "ok", "version": "1.8.0", "pad": "' + b"z" * 200_000 + b'"}'
    server.answer("/health", body=encode(body), headers={"Content-Encoding": coding})  # type: ignore[operator]
    response = get(http, server.url("/health"))
    assert response.json()["version"] == "1.8.0"
    assert response.content == body
    assert "content-encoding" not in response.headers


def test_a_corrupt_gzip_body_is_a_decoding_error(server: HostileServer, http: httpx.Client) -> None:
    server.answer("/broken", body=b"not gzip at all", headers={"Content-Encoding": "gzip"})
    with pytest.raises(httpx.DecodingError, match=r"^cannot decode the gzip body: "):
        get(http, server.url("/broken"))


def test_the_client_asks_only_for_codings_it_bounds(server: HostileServer, http: httpx.Client) -> None:
    server.answer("/ok", body={"status": "ok"})
    get(http, server.url("/ok"))
    assert server.requests[-1].headers["accept-encoding"] == "gzip, deflate"


def test_format_size() -> None:
    assert [format_size(n) for n in (100, 1024, 1536, 1 << 20, 3 << 19, 1 << 30)] == [
        "100 bytes",
        "1 KiB",
        "1.5 KiB",
        "1 MiB",
        "1.5 MiB",
        "1 GiB",
    ]


# -- time -------------------------------------------------------------------------------------


def test_a_dripping_body_is_stopped_by_the_deadline_not_the_read_timeout(
    server: HostileServer, http: httpx.Client
) -> None:
    # A byte every 0.2s never trips the 5s read timeout: only the total deadline can stop it.
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        get(http, server.url("/drip"), seconds=1.0)
    assert 1.0 <= time.monotonic() - started < 1.0 + SLACK


def test_dripping_headers_are_stopped_by_the_deadline(server: HostileServer, http: httpx.Client) -> None:
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        get(http, server.url("/drip-headers"), seconds=1.0)
    assert 1.0 <= time.monotonic() - started < 1.0 + SLACK


def test_an_expired_deadline_sends_nothing(server: HostileServer, http: httpx.Client) -> None:
    with pytest.raises(httpx.PoolTimeout, match="before it was sent"):
        get(http, server.url("/drip"), seconds=0.0)
    time.sleep(0.1)
    assert server.requests == []


def test_the_deadline_after_an_outer_one_keeps_the_earlier() -> None:
    soon = time.monotonic() + 2.0
    deadline = Deadline.after(60.0, within=soon)
    assert deadline.at == soon
    assert 1.5 < deadline.seconds <= 2.0
    assert Deadline.after(1.0, within=time.monotonic() + 60).seconds == 1.0


def test_the_client_wraps_the_transports_network_backend() -> None:
    # httpx has no public hook for this; if an upgrade moves the attribute, this fails loudly.
    with bounded.client() as made:
        transport = made._transport
        assert isinstance(transport, httpx.HTTPTransport)
        assert isinstance(transport._pool._network_backend, DeadlineBackend)


# -- redirects --------------------------------------------------------------------------------


def test_redirects_are_followed_only_when_asked_and_their_bodies_are_bounded(
    server: HostileServer, http: httpx.Client
) -> None:
    server.answer("/old", status=301, headers={"Location": "/new"}, body=b"moved")
    server.answer("/new", body={"status": "ok"})
    assert get(http, server.url("/old")).status_code == 301
    followed = get(http, server.url("/old"), follow_redirects=True)
    assert (followed.status_code, followed.json(), len(followed.history)) == (200, {"status": "ok"}, 1)

    server.answer("/loop", status=302, headers={"Location": "/loop"})
    with pytest.raises(httpx.TooManyRedirects, match=r"^more than 5 redirects$"):
        get(http, server.url("/loop"), follow_redirects=True)
    server.answer("/to-endless", status=302, headers={"Location": "/endless"})
    with pytest.raises(ResponseTooLarge):
        get(http, server.url("/to-endless"), follow_redirects=True)


def test_read_capped_reads_a_plain_body(server: HostileServer, http: httpx.Client) -> None:
    server.answer("/text", body="hello")
    with http.stream("GET", server.url("/text")) as response:
        assert read_capped(response, 5) == b"hello"


def test_importing_opsctl_net_does_not_import_httpx() -> None:
    code = (
        "import sys, opsctl.net.bounded, opsctl.net.deadline, opsctl.net.headers, opsctl.net.retry;"
        " print('httpx' in sys.modules, 'httpcore' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False"
