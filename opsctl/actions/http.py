"""``http.get``: a URL answers with the expected status, JSON fields and latency."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from opsctl.config import Duration
from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome

_MISSING = object()


class HttpGetParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    url: str
    status: int = 200
    json_fields: dict[str, Any] | None = Field(None, alias="json", description="field path -> expected value")
    max_ms: float | None = Field(None, gt=0)
    timeout: Duration = 10.0
    contains: str | None = None
    headers_env: dict[str, str] = Field(default_factory=dict, description="header -> env var with its value")


def field_at(data: Any, path: str) -> Any:
    """``dependencies.database.status`` or ``items.0.id`` inside parsed JSON; _MISSING if absent."""
    current = data
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def compare_fields(body: Any, expected: dict[str, Any]) -> str | None:
    """The first mismatch as a sentence, or None when all fields match."""
    for path, want in expected.items():
        got = field_at(body, path)
        if got is _MISSING:
            return f"field {path} is missing from the response"
        if got != want:
            return f"field {path}: expected {want!r}, got {got!r}"
    return None


def connect_error(url: str, exc: Exception) -> str:
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


@action("http.get", HttpGetParams)
def http_get(ctx: RunContext, params: HttpGetParams) -> Outcome:
    """GET a URL and check its status, JSON fields, body text and latency."""
    import os

    import httpx

    headers = {h: os.environ.get(var, "") for h, var in params.headers_env.items()}
    ctx.redactor.add(*headers.values())  # header values are credentials more often than not
    started = time.monotonic()
    try:
        response = httpx.get(params.url, timeout=params.timeout, headers=headers, follow_redirects=False)
    except httpx.HTTPError as exc:
        return Outcome.failed(connect_error(params.url, exc))
    elapsed_ms = (time.monotonic() - started) * 1000
    detail = {"url": params.url, "status": response.status_code, "ms": round(elapsed_ms)}
    if response.status_code != params.status:
        moved = response.headers.get("location")
        extra = f" (redirect to {moved})" if moved and response.is_redirect else ""
        return Outcome.failed(f"expected HTTP {params.status}, got {response.status_code}{extra}", **detail)
    if params.json_fields:
        try:
            body = response.json()
        except ValueError:
            return Outcome.failed("the response is not JSON", **detail)
        mismatch = compare_fields(body, params.json_fields)
        if mismatch:
            return Outcome.failed(mismatch, **detail)
    if params.contains is not None and params.contains not in response.text:
        return Outcome.failed(f"the response does not contain {params.contains!r}", **detail)
    if params.max_ms is not None and elapsed_ms > params.max_ms:
        return Outcome.failed(f"answered in {elapsed_ms:.0f}ms, limit {params.max_ms:.0f}ms", **detail)
    return Outcome.passed(f"HTTP {response.status_code} in {elapsed_ms:.0f}ms", **detail)
