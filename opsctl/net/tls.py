"""One verifying TLS context for the process's HTTP clients, its CA bundle read at the first handshake.

httpx builds a new ``ssl.create_default_context(cafile=certifi.where())`` for
every client, and reading the bundle (about 150 certificates) is tens of
milliseconds of CPU each time: a deploy makes a client per health check, and
one whose endpoints are plain ``http://`` never needs the bundle at all.
:func:`default_context` is that same context, made once per process, with
the bundle loaded under a lock when the first TLS connection is wrapped.
The CA file or folder is chosen as httpx chooses it (``SSL_CERT_FILE``,
``SSL_CERT_DIR``, else certifi's bundle), and ``SSLKEYLOGFILE`` is honoured
as ``ssl.create_default_context`` honours it. Verification stays on:
``CERT_REQUIRED`` and hostname checks from the start.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from functools import lru_cache
from typing import Any


class DeferredCaContext(ssl.SSLContext):
    """``ssl.create_default_context()`` for servers, except that its CAs load at the first wrap."""

    _ca_lock: threading.Lock
    _ca_loaded: bool

    def prepare(self) -> DeferredCaContext:
        """Settle everything but the CA bundle (what create_default_context sets for SERVER_AUTH)."""
        self._ca_lock = threading.Lock()
        self._ca_loaded = False
        self.verify_mode = ssl.CERT_REQUIRED
        self.check_hostname = True
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog and not sys.flags.ignore_environment:
            self.keylog_filename = keylog
        return self

    def load_ca(self) -> None:
        """Read the CA bundle once (thread-safe); every wrap calls this first."""
        if self._ca_loaded:
            return
        with self._ca_lock:
            if not self._ca_loaded:
                cafile, capath = ca_locations()
                self.load_verify_locations(cafile=cafile, capath=capath)
                self._ca_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.load_ca()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.load_ca()
        return super().wrap_bio(*args, **kwargs)


def ca_locations() -> tuple[str | None, str | None]:
    """(cafile, capath) as httpx picks them with ``trust_env``: SSL_CERT_FILE, SSL_CERT_DIR, else certifi."""
    if os.environ.get("SSL_CERT_FILE"):
        return os.environ["SSL_CERT_FILE"], None
    if os.environ.get("SSL_CERT_DIR"):
        return None, os.environ["SSL_CERT_DIR"]
    import certifi

    return certifi.where(), None


@lru_cache(maxsize=1)
def default_context() -> ssl.SSLContext:
    """The process's verifying client context (shared: an SSLContext is safe to use from many threads)."""
    return DeferredCaContext(ssl.PROTOCOL_TLS_CLIENT).prepare()
