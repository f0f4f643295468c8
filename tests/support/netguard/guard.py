"""The tests' network fence: nothing may talk to any address other than the loopback.

Installed in the pytest process by ``tests/conftest.py`` and in every Python
subprocess a test starts (the CLI run as ``python -m opsctl``) through the
``sitecustomize`` beside this file, which conftest puts on ``PYTHONPATH``.
A connection or name lookup for anything but 127.0.0.0/8, ::1 or a Unix
socket fails at once like an unreachable host, with a message naming the
address, so a default that would reach the internet (a public registry, a
SaaS API) shows up as a test failure instead of a silent network call.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_INSTALLED = "_opsctl_netguard_installed"


def is_loopback(host: object) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard, for servers binding
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host).strip("[]").lower()
    if text in _LOCAL_NAMES or text.endswith(".localhost") or text == "":
        return True
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _refuse(host: object) -> OSError:
    return ConnectionRefusedError(111, f"test network guard: {host!r} is not on 127.0.0.1; tests stay on loopback")


def install() -> None:
    if getattr(socket, _INSTALLED, False):
        return
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"test network guard: no lookups of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def _target(address: Any) -> object:
        return address[0] if isinstance(address, tuple) else None

    def connect(self: socket.socket, address: Any) -> None:
        if self.family != socket.AF_UNIX and not is_loopback(_target(address)):
            raise _refuse(_target(address))
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family != socket.AF_UNIX and not is_loopback(_target(address)):
            return 111
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    setattr(socket, _INSTALLED, True)
