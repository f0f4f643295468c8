"""``http.get``: a URL answers with the expected status, JSON fields and latency."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from opsctl.config import Duration
from opsctl.engine.actions import action
from opsctl.engine.checklist import time_left
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.net.errors import connect_error
from opsctl.values.fieldpath import compare_fields


class HttpGetParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    url: str
    status: int = 200
    json_fields: dict[str, Any] | None = Field(None, alias="json", description="field path -> expected value")
    max_ms: float | None = Field(None, gt=0)
    timeout: Duration = 10.0
    contains: str | None = None
    headers_env: dict[str, str] = Field(default_factory=dict, description="header -> env var with its value")


@action("http.get", HttpGetParams)
def http_get(ctx: RunContext, params: HttpGetParams) -> Outcome:
    """GET a URL and check its status, JSON fields, body text and latency.

    ``timeout`` limits the whole request (connect, headers and body, and no
    later than the item's deadline); the body is read up to 1 MiB decoded.
    """
    import httpx

    from opsctl.net import bounded
    from opsctl.net.deadline import Deadline
    from opsctl.net.headers import env_headers

    # Header values are credentials more often than not: checked, and known to the redactor.
    headers = env_headers(params.headers_env, "the http.get request", ctx.redactor, required=False)
    started = time.monotonic()
    try:
        with bounded.client(timeout=params.timeout, follow_redirects=False) as http:
            deadline = Deadline.after(time_left(params.timeout))
            response = bounded.send(http, "GET", params.url, deadline=deadline, headers=headers)
    except bounded.ResponseTooLarge as exc:
        return Outcome.failed(str(exc), url=params.url)
    except httpx.LocalProtocolError:  # its message would quote the offending header value
        return Outcome.failed(f"request to {params.url} could not be sent (an invalid request header?)")
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
