"""An httpx transport error as one line that names the URL and says what went wrong."""

from __future__ import annotations


def connect_error(url: str, exc: Exception) -> str:
    """``cannot connect to URL: connection refused``, ``no answer from URL within the timeout``, ...

    httpx is imported here, not at the top: callers reach this only after an
    httpx call failed, and ``opsctl --help`` must not import httpx.
    """
    import httpx

    if isinstance(exc, httpx.ConnectTimeout):
        return f"cannot connect to {url}: connection timed out"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer from {url} within the timeout"
    if isinstance(exc, httpx.ConnectError):
        reason = str(exc) or "connection failed"
        if "refused" in reason.lower():
            reason = "connection refused"
        return f"cannot connect to {url}: {reason}"
    return f"request to {url} failed: {type(exc).__name__}: {exc}"
