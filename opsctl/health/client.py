"""The HTTP client for the bot's health endpoints (and other read-only metric APIs).

Policy (STYLE 9):

- every request has an explicit timeout, and every call an overall *budget*
  (default: timeout x attempts) that retries and ``Retry-After`` waits never exceed;
- the timeout is a wall-clock limit on the whole request (connect, headers,
  body), and the body is read up to ``max_response_bytes`` decoded bytes
  (default 1 MiB): a bot that streams forever, drips one byte a second or
  sends a gzip bomb fails the probe instead of holding or swelling opsctl
  (see :mod:`opsctl.net.bounded`);
- inside a checklist item, no request outlives the item's deadline;
- only idempotent GETs are retried: on 429/502/503/504 (the answers that mean
  "try again") and on refused/dropped connections. A 500 is an application
  error a retry rarely fixes and would hide a flapping bot; a read timeout
  is not retried because a hung bot stays hung and retrying would multiply
  the wait;
- redirects are followed only on the same host (an http -> https upgrade of
  the same name counts as the same host); a redirect elsewhere fails and names
  the host, so the bot's headers (which may carry tokens) never go there;
- header values come from environment variables, are checked (one trailing
  newline is dropped, other control characters refused, see
  :mod:`opsctl.net.headers`) and join the redactor.

This module imports httpx at the top: nothing on the ``opsctl --help`` path imports it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpx

from opsctl.errors import BadInput
from opsctl.net import bounded
from opsctl.net import headers as net_headers
from opsctl.net.deadline import Deadline
from opsctl.net.errors import connect_error
from opsctl.net.retry import parse_retry_after
from opsctl.values.durations import format_duration

if TYPE_CHECKING:
    from opsctl.config import HealthConfig
    from opsctl.health.context import ProbeContext
    from opsctl.values.redact import Redactor

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_REDIRECTS = 5
MAX_RETRY_WAIT = 30.0  # a Retry-After longer than this is not waited for, whatever the budget
BACKOFF = 0.25  # first pause between attempts without Retry-After; doubles


class ProbeError(Exception):
    """No usable HTTP answer (connection, timeout, cross-host redirect); the message is one line."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True)
class Reply:
    """One HTTP answer, after any retries and same-host redirects."""

    method: str
    url: str
    status: int
    text: str
    elapsed_ms: float  # of the last attempt: what a latency sample measures
    attempts: int = 1
    note: str = ""  # why retrying stopped before the attempts ran out

    def json(self) -> Any:
        """The parsed body; raises ValueError when it is not JSON."""
        import json

        return json.loads(self.text)

    def describe_status(self) -> str:
        """``GET http://bot/health answered HTTP 503 after 3 attempts``."""
        text = f"{self.method} {self.url} answered HTTP {self.status}"
        if self.attempts > 1:
            text += f" after {self.attempts} attempts"
        if self.note:
            text += f" ({self.note})"
        return text


class HealthClient:
    """A small, thread-safe client bound to one base URL; use it as a context manager."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        retries: int = 2,
        budget: float | None = None,
        cancel: threading.Event | None = None,
        max_connections: int = 10,
        keepalive: bool = True,
        transport: httpx.BaseTransport | None = None,
        max_response_bytes: int = bounded.DEFAULT_MAX_BYTES,
        deadline: float | None = None,
    ) -> None:
        """``deadline`` (``time.monotonic()``) ends every call; by default the running checklist item's."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.budget = budget
        self.cancel = cancel or threading.Event()
        self.max_response_bytes = max_response_bytes
        self.deadline = _item_deadline() if deadline is None else deadline
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections if keepalive else 0
        )
        options: dict[str, Any] = {
            "timeout": httpx.Timeout(timeout),
            "headers": dict(headers or {}),
            "follow_redirects": False,
        }
        if transport is None:
            self._http = bounded.client(limits=limits, **options)
        else:  # tests hand in a mock transport
            self._http = httpx.Client(transport=transport, **options)

    def __enter__(self) -> HealthClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def url(self, path: str) -> str:
        """``/health`` -> ``{base_url}/health``; an absolute URL is used as given."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, *, retries: int | None = None, params: Mapping[str, str] | None = None) -> Reply:
        """GET with the retry policy; ``retries=0`` for measurements, where a retry would hide the fault."""
        return self._request("GET", path, None, self.retries if retries is None else retries, params)

    def post(self, path: str, json: Any = None) -> Reply:
        """POST once: it is not idempotent, so it is never re-sent."""
        return self._request("POST", path, json, 0, None)

    def _request(self, method: str, path: str, body: Any, retries: int, params: Mapping[str, str] | None) -> Reply:
        url = self.url(path)  # messages name it without the query, which may be long (PromQL)
        deadline = time.monotonic() + (self.budget or self.timeout * (retries + 1))
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        attempt = 0
        while True:
            attempt += 1
            try:
                reply, retry_after = self._follow(method, url, body, params, deadline)
            except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
                delay = BACKOFF * 2 ** (attempt - 1)
                if attempt > retries or time.monotonic() + delay >= deadline:
                    raise ProbeError(describe_error(url, exc, self.timeout)) from None
                self._pause(delay)
                continue
            except httpx.HTTPError as exc:
                timed_out = isinstance(exc, httpx.TimeoutException)
                raise ProbeError(describe_error(url, exc, self.timeout), timed_out=timed_out) from None
            reply = replace(reply, attempts=attempt)
            if reply.status not in RETRY_STATUSES or attempt > retries:
                return reply
            announced = parse_retry_after(retry_after or "")
            delay = BACKOFF * 2 ** (attempt - 1) if announced is None else announced
            reason = "retrying" if announced is None else f"Retry-After {format_duration(delay)}"
            if time.monotonic() + delay >= deadline:
                return replace(reply, note=f"{reason} would exceed the time budget")
            if delay > MAX_RETRY_WAIT:
                return replace(reply, note=f"{reason} is longer than opsctl waits ({format_duration(MAX_RETRY_WAIT)})")
            self._pause(delay)

    def _follow(
        self, method: str, url: str, body: Any, params: Mapping[str, str] | None, deadline: float
    ) -> tuple[Reply, str | None]:
        """One attempt: send, and follow same-host redirects of a GET; also returns Retry-After."""
        started = time.monotonic()
        for _ in range(MAX_REDIRECTS + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProbeError(f"no answer from {url} within the time budget", timed_out=True)
            limit = Deadline.after(min(self.timeout, remaining))
            try:
                response = bounded.send(
                    self._http,
                    method,
                    url,
                    deadline=limit,
                    max_bytes=self.max_response_bytes,
                    json=body,
                    params=dict(params or {}),
                )
            except bounded.ResponseTooLarge as exc:
                raise ProbeError(f"{url}: {exc}") from None
            except httpx.TimeoutException:
                if limit.seconds < self.timeout:  # what ran out is the call's budget or its item's time
                    raise ProbeError(f"no answer from {url} within the time budget", timed_out=True) from None
                raise
            location = response.headers.get("location")
            if not (response.is_redirect and location and method == "GET"):
                elapsed = (time.monotonic() - started) * 1000
                reply = Reply(method, url, response.status_code, response.text, elapsed)
                return reply, response.headers.get("retry-after")
            target = urljoin(url, location)
            if not same_host(url, target):
                raise ProbeError(f"{url} redirected to another host ({origin(target)}); not followed")
            url, params = target, None  # the Location carries its own query
        raise ProbeError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _pause(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            raise ProbeError("interrupted while waiting to retry")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def same_host(current: str, target: str) -> bool:
    """Same scheme, name and port; or an upgrade from http to https of the same name."""
    a, b = urlsplit(current), urlsplit(target)
    if (a.hostname or "").lower() != (b.hostname or "").lower():
        return False
    if a.scheme == b.scheme:
        return a.port == b.port
    return a.scheme == "http" and b.scheme == "https"


def describe_error(url: str, exc: Exception, timeout: float) -> str:
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{url} closed the connection without an answer"
    if isinstance(exc, httpx.LocalProtocolError):
        # Its message quotes what could not be sent, e.g. a header value: a secret.
        return f"request to {url} could not be sent (an invalid request header?)"
    text = connect_error(url, exc)
    if isinstance(exc, httpx.TimeoutException):
        text += f" ({format_duration(timeout)})"
    return text


def env_headers(mapping: Mapping[str, str], redactor: Redactor | None = None) -> dict[str, str]:
    """``{header: ENV_VAR}`` -> ``{header: value}`` (checked); the values become secrets of the redactor."""
    return net_headers.env_headers(mapping, "health probes", redactor)


def _item_deadline() -> float | None:
    """When the running checklist item's time is up (None outside one): no probe may outlive it."""
    from opsctl.engine.checklist import action_deadline

    return action_deadline.get()


def health_config(ctx: ProbeContext, base_url: str | None = None) -> HealthConfig:
    """The environment's ``health:`` config, with ``base_url`` overridden when given."""
    from opsctl.config import HealthConfig

    health = ctx.env.health
    if health is None:
        if base_url is None:
            raise BadInput(
                f"environment '{ctx.env_name}' has no health config; "
                f"set environments.{ctx.env_name}.health.base_url in opsctl.yaml or pass with: base_url"
            )
        return HealthConfig(base_url=base_url)
    return health if base_url is None else health.model_copy(update={"base_url": base_url})


def client_for(
    ctx: ProbeContext,
    health: HealthConfig,
    *,
    timeout: float | None = None,
    retries: int = 2,
    max_connections: int = 10,
    keepalive: bool = True,
) -> HealthClient:
    """A client for the bot of ``ctx``'s environment, with its headers and the run's cancel event."""
    return HealthClient(
        health.base_url,
        timeout=timeout or health.timeout,
        headers=env_headers(health.headers_env, ctx.redactor),
        retries=retries,
        cancel=ctx.cancel,
        max_connections=max_connections,
        keepalive=keepalive,
    )
