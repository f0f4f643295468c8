"""Bounded HTTP: every request ends by a wall-clock deadline and reads at most ``max_bytes`` of body.

An endless chunked ``/health`` once grew opsctl to 23 GB, and a gzip bomb to
3.2 GB: httpx reads whatever a server sends, and its timeouts bound each read,
not the request. Every HTTP client of opsctl therefore sends through
:func:`send`, which

- streams the response and counts *decoded* bytes, inflating gzip/deflate
  itself with ``max_length`` so that a bomb stops at the cap instead of
  expanding a whole network read first; past the cap it raises
  :class:`ResponseTooLarge` ("response too large (over 1 MiB)");
- runs the request inside a :class:`~opsctl.net.deadline.Deadline`: connect,
  headers and body all end by it (see :mod:`opsctl.net.deadline`), and a late
  body raises ``httpx.ReadTimeout`` like any other timeout, so callers keep
  one timeout path;
- follows redirects itself when asked, so that redirect bodies are bounded too.

Use :func:`client` to make the ``httpx.Client``: its connections honour the
deadline during connect and headers as well. httpx is imported inside the
functions: ``opsctl --help`` must not import it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from opsctl.net.deadline import Deadline, deadline_scope

if TYPE_CHECKING:
    import httpx

DEFAULT_MAX_BYTES = 1024 * 1024  # 1 MiB: far above any health, API or webhook answer opsctl reads
MAX_REDIRECTS = 5
# Only codings this module inflates with a bound; httpx would also offer br/zstd when installed.
ACCEPT_ENCODING = "gzip, deflate"
_ZLIB_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
_TRANSPORT_KEYS = ("limits", "verify", "cert")
# The loaded response holds the decoded body: these headers described the bytes on the wire.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class ResponseTooLarge(Exception):
    """The decoded body went past the cap; the message is ``response too large (over 1 MiB)``.

    ``status`` is the HTTP status of the answer (a POST may have been accepted all the same).
    """

    def __init__(self, max_bytes: int, status: int | None = None) -> None:
        super().__init__(f"response too large (over {format_size(max_bytes)})")
        self.max_bytes = max_bytes
        self.status = status


def format_size(size: int) -> str:
    """``1 MiB``, ``1.5 MiB``, ``64 KiB``, ``100 bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"
    return f"{size} bytes"


def client(**kwargs: Any) -> httpx.Client:
    """An ``httpx.Client(**kwargs)`` whose connections honour the deadline of :func:`send`.

    ``limits``, ``verify`` and ``cert`` configure its transport. httpx has no
    public way to give a transport another network backend, so this wraps the
    backend of the transport's connection pool (private in httpx 0.28 /
    httpcore 1.x); ``tests/net`` pins that it still takes effect. Requests
    through proxies from the environment use httpx's own transports: for them
    the deadline is checked between body chunks only.
    """
    import httpx

    from opsctl.net.backend import DeadlineBackend
    from opsctl.net.tls import default_context

    if "verify" not in kwargs and "cert" not in kwargs:  # httpx would read the CA bundle for every client
        kwargs["verify"] = default_context()
    transport = httpx.HTTPTransport(**{key: kwargs.pop(key) for key in _TRANSPORT_KEYS if key in kwargs})
    pool = transport._pool  # private: see the docstring
    pool._network_backend = DeadlineBackend(pool._network_backend)
    made = httpx.Client(transport=transport, **kwargs)
    made.headers["Accept-Encoding"] = ACCEPT_ENCODING
    return made


def send(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    deadline: Deadline,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_redirects: bool = False,
    timeout: httpx.Timeout | float | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """One request, done by ``deadline``, its body read (at most ``max_bytes`` decoded) and closed.

    ``kwargs`` are those of ``httpx.Client.build_request`` (params, json,
    headers, content). ``timeout`` bounds each operation as in httpx, and is
    shortened to the time left. Raises :class:`ResponseTooLarge`, or an
    ``httpx.HTTPError`` (a ``TimeoutException`` when the deadline passes).
    """
    import httpx

    if deadline.expired:
        raise httpx.PoolTimeout("the request's total time limit was reached before it was sent")
    with deadline_scope(deadline):
        request = http.build_request(method, url, timeout=_shortened(http, timeout, deadline), **kwargs)
        history: list[httpx.Response] = []
        while True:
            response = http.send(request, stream=True, follow_redirects=False)
            try:
                body = read_capped(response, max_bytes, deadline)
            finally:
                response.close()
            following = response.next_request if follow_redirects else None
            if following is None:
                return _loaded(response, body, history)
            if len(history) >= MAX_REDIRECTS:
                raise httpx.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects", request=request)
            history.append(response)
            request = following


def read_capped(
    response: httpx.Response, max_bytes: int = DEFAULT_MAX_BYTES, deadline: Deadline | None = None
) -> bytes:
    """The decoded body of a streamed ``response``: at most ``max_bytes``, read before ``deadline``.

    A declared ``Content-Length`` over the cap fails before reading. gzip and
    deflate are inflated here in bounded steps; any other coding goes through
    httpx's decoders (which inflate one network read at a time; :func:`client`
    does not offer those codings, so a server should not use them).
    """
    import httpx

    coding = response.headers.get("content-encoding", "").strip().lower()
    if coding in ("", "identity"):
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > max_bytes:
            raise ResponseTooLarge(max_bytes, response.status_code)
        chunks = response.iter_raw()
    elif coding in _ZLIB_WBITS:
        chunks = _inflate(response.iter_raw(), coding, max_bytes + 1)
    else:
        chunks = response.iter_bytes()
    body = bytearray()
    try:
        for chunk in chunks:
            if deadline is not None and deadline.expired:
                raise httpx.ReadTimeout("the request's total time limit was reached", request=response.request)
            if len(body) + len(chunk) > max_bytes:
                raise ResponseTooLarge(max_bytes, response.status_code)
            body += chunk
    except zlib.error as exc:
        raise httpx.DecodingError(f"cannot decode the {coding} body: {exc}", request=response.request) from None
    return bytes(body)


def _inflate(raw: Iterator[bytes], coding: str, limit: int) -> Iterator[bytes]:
    """Decoded pieces of a gzip/deflate stream, never more than ``limit`` bytes in all.

    ``max_length`` keeps each step's output small; input not yet inflated
    waits in ``unconsumed_tail``. HTTP "deflate" is meant to be zlib-wrapped,
    but some servers send a raw deflate stream: the first chunk decides.
    """
    inflater = zlib.decompressobj(_ZLIB_WBITS[coding])
    produced = 0
    first = True
    for data in raw:
        pending = data
        if first and coding == "deflate" and pending:
            first = False
            try:
                out = inflater.decompress(pending, max(1, limit - produced))
            except zlib.error:
                inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                out = inflater.decompress(pending, max(1, limit - produced))
            produced += len(out)
            pending = inflater.unconsumed_tail
            if out:
                yield out
        while pending:
            out = inflater.decompress(pending, max(1, limit - produced))
            if not out and inflater.unconsumed_tail == pending:
                break  # no progress: the rest is not part of the stream
            produced += len(out)
            pending = inflater.unconsumed_tail
            if out:
                yield out
    rest = inflater.flush()
    if rest:
        yield rest


def _shortened(http: httpx.Client, timeout: httpx.Timeout | float | None, deadline: Deadline) -> httpx.Timeout:
    """Each phase's timeout, no longer than the time left (for clients made elsewhere, e.g. in tests)."""
    import httpx

    base = http.timeout if timeout is None else httpx.Timeout(timeout)
    left = max(0.001, deadline.remaining())

    def cut(value: float | None) -> float:
        return left if value is None else min(value, left)

    return httpx.Timeout(connect=cut(base.connect), read=cut(base.read), write=cut(base.write), pool=cut(base.pool))


def _loaded(response: httpx.Response, body: bytes, history: list[httpx.Response]) -> httpx.Response:
    """A closed response holding the decoded ``body``: ``.text``, ``.json()`` and headers work as usual."""
    import httpx

    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=response.request,
        extensions=response.extensions,
        history=history,
    )
