"""connect_error: an httpx transport error as one line naming the URL (no traceback, no headers)."""

from __future__ import annotations

import httpx
import pytest

from opsctl.net.errors import connect_error

URL = "http://127.0.0.1:9/health"
REQUEST = httpx.Request("GET", URL)


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (httpx.ConnectTimeout("timed out", request=REQUEST), f"cannot connect to {URL}: connection timed out"),
        (httpx.ReadTimeout("timed out", request=REQUEST), f"no answer from {URL} within the timeout"),
        (httpx.PoolTimeout("no connection", request=REQUEST), f"no answer from {URL} within the timeout"),
        (
            httpx.ConnectError("[Errno 111] Connection refused", request=REQUEST),
            f"cannot connect to {URL}: connection refused",
        ),
        (
            httpx.ConnectError("[Errno -2] Name or service not known", request=REQUEST),
            f"cannot connect to {URL}: [Errno -2] Name or service not known",
        ),
        (httpx.ConnectError("", request=REQUEST), f"cannot connect to {URL}: connection failed"),
        (
            httpx.RemoteProtocolError("peer closed connection", request=REQUEST),
            f"request to {URL} failed: RemoteProtocolError: peer closed connection",
        ),
    ],
)
def test_each_transport_error_is_one_line(exc: Exception, line: str) -> None:
    assert connect_error(URL, exc) == line
