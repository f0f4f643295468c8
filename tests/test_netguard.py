"""The network fence itself: loopback passes, anything else fails at once, in-process and in subprocesses."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest

from tests.support.netguard.guard import is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost", "x.localhost", None])
def test_loopback_hosts_pass(host: object) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "1.1.1.1", "registry-1.docker.io", "api.pagerduty.com", "2001:db8::1"])
def test_other_hosts_are_outside(host: str) -> None:
    assert not is_loopback(host)


def test_a_lookup_of_a_public_name_fails_in_process() -> None:
    with pytest.raises(socket.gaierror, match=re.escape("test network guard: no lookups of 'example.com'")):
        socket.getaddrinfo("example.com", 443)


def test_a_connection_to_a_public_address_is_refused_in_process() -> None:
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match=re.escape("is not on 127.0.0.1")):
        sock.connect(("192.0.2.1", 443))


def test_loopback_connections_still_work() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass


def test_subprocesses_carry_the_guard() -> None:
    code = (
        "import socket\ntry:\n    socket.getaddrinfo('example.com', 443)\nexcept socket.gaierror as e:\n    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "test network guard: no lookups of 'example.com'" in done.stdout
