"""Fly pre-flight: the app exists and the token can read it (one ``GET /v1/apps/{app}/machines``)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from opsctl.config import FlyPlatformConfig
from opsctl.net import bounded
from opsctl.net.deadline import Deadline
from opsctl.net.errors import connect_error
from opsctl.net.retry import RetryPolicy
from opsctl.values.redact import Redactor
from opsctl.verify.result import Check, Verdict

POLICY = RetryPolicy(connect_timeout=5.0, read_timeout=15.0)


def check_app(config: FlyPlatformConfig, redactor: Redactor, environ: Mapping[str, str] | None = None) -> Check:
    """One line: the app is there and readable, or why not (missing app, refused token, unreachable API)."""
    import httpx

    from opsctl.platforms.fly_http import authorization, read_token

    token, var = read_token(config.token_env, os.environ if environ is None else environ)
    redactor.add(token)
    base = str(config.api_url).rstrip("/")
    url = f"{base}/v1/apps/{config.app}/machines"
    try:
        with bounded.client(timeout=POLICY.timeout()) as http:
            answer = bounded.send(
                http,
                "GET",
                url,
                deadline=Deadline.after(POLICY.request_deadline),
                headers={"Authorization": authorization(token)},
            )
    except (httpx.TransportError, bounded.ResponseTooLarge) as exc:
        message = connect_error(url, exc) if isinstance(exc, httpx.TransportError) else str(exc)
        return Check("app", config.app, Verdict.UNAVAILABLE, redactor.text(f"Fly API is unavailable: {message}"))
    status = answer.status_code
    if status == 200:
        data = answer.json() if answer.content else []
        count = len(data) if isinstance(data, list) else 0
        return Check(
            "app", config.app, Verdict.PASSED, f"fly app {config.app} exists; {var} can read it ({count} machines)"
        )
    if status == 404:
        return Check("app", config.app, Verdict.FAILED, f"fly app {config.app} not found at {base}")
    if status in (401, 403):
        return Check(
            "app", config.app, Verdict.FAILED, f"the token in {var} cannot read fly app {config.app} (HTTP {status})"
        )
    if status == 429 or status >= 500:
        return Check(
            "app", config.app, Verdict.UNAVAILABLE, f"Fly API answered HTTP {status} for {config.app}; try again"
        )
    return Check("app", config.app, Verdict.FAILED, f"Fly API answered HTTP {status} for {config.app}")
