"""Call a JSON REST API (PagerDuty REST, Statuspage, Slack Web API, GitHub issues) with bounded, honest retries.

Every request ends by a deadline and reads at most 1 MiB (:mod:`opsctl.net.bounded`).
429 and 5xx answers and transport errors are retried with backoff, honouring
``Retry-After`` within the policy's budget (not a request that timed out after
connecting: a hung server stays hung, so a call ends within one request's
deadline plus the retries of failures that came fast), but a POST (which creates
something) is re-sent only when it surely was not processed: a 429, or a
connection that was never made. A POST that timed out or met a 5xx may have
taken effect, and a second Statuspage incident or Slack channel is worse
than a clear error. Error texts are redacted before they are cut, and name
the method and path, never the token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsctl.net import bounded
from opsctl.net.deadline import Deadline
from opsctl.net.retry import RetryPolicy, is_retryable, parse_retry_after, transport_problem

if TYPE_CHECKING:
    import httpx

DEFAULT_POLICY = RetryPolicy(attempts=3, backoff=0.5, max_delay=2.0, budget=8.0, connect_timeout=3.0, read_timeout=10.0)
_EXCERPT = 160
_IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE", "HEAD"})


class ApiError(Exception):
    """An API call that did not succeed; the message is one line without secrets.

    ``status`` is the last HTTP status (None: no answer); ``unreachable`` is
    true when the service never answered usefully (transport errors, 5xx, 429
    past the budget), as opposed to refusing the request (4xx).
    """

    def __init__(self, message: str, status: int | None = None, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.unreachable = unreachable

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Answer:
    """A successful answer: its status and its JSON body (None when it had none)."""

    status: int
    body: Any


def default_policy() -> RetryPolicy:
    """The module's policy, read at call time so that tests can shorten its waits."""
    return DEFAULT_POLICY


class JsonApi:
    """One API (``name``, e.g. "Statuspage") at ``base_url``, with the headers every request carries.

    ``explain`` turns an error body into the API's own message (each API has
    its own error shape); ``scrub`` redacts text before it reaches a message.
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        scrub: Callable[[str], str] = lambda text: text,
        explain: Callable[[Any], str | None] = lambda _body: None,
        policy: RetryPolicy | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._scrub = scrub
        self._explain = explain
        self._policy = policy or default_policy()
        self._own_client = client is None
        self._client = client or bounded.client(timeout=self._policy.timeout(), follow_redirects=False)

    @property
    def host(self) -> str:
        """Where requests go, for audit events: scheme and host only (paths can carry ids)."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def close(self) -> None:
        if self._own_client:
            self._client.close()

    def __enter__(self) -> JsonApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """``method path`` with retries; the Answer on 2xx, ApiError (one line) otherwise."""
        import httpx

        what = f"{method} {path.split('?', 1)[0]}"
        waited, attempt = 0.0, 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = bounded.send(
                    self._client,
                    method,
                    self.base_url + path,
                    deadline=Deadline.after(self._policy.request_deadline),
                    json=json,
                    params=params,
                    headers={**self._headers, **(headers or {})},
                )
            except bounded.ResponseTooLarge as exc:
                raise ApiError(f"{self.name} {what}: {exc}", exc.status) from None
            except httpx.HTTPError as exc:
                status: int | None = None
                problem = transport_problem(exc)
                # A POST may have been processed unless the connection was never made. A server that
                # took the request and then hung stays hung: asking again would only multiply the wait.
                hung = isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout)
                retry = not hung and (
                    method in _IDEMPOTENT or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                )
            else:
                status = response.status_code
                if response.is_success:
                    return Answer(status, _json_or_none(response))
                problem = f"HTTP {status}{self._reason(response)}"
                retry = is_retryable(status) and (method in _IDEMPOTENT or status == 429)
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                if not retry:
                    unreachable = is_retryable(status)
                    raise ApiError(
                        self._scrub(f"{self.name} refused {what}: {problem}"), status, unreachable=unreachable
                    )
            if not retry or attempt >= self._policy.attempts:
                raise ApiError(
                    self._scrub(f"{self.name} {what} failed after {attempt} attempt(s): {problem}"),
                    status,
                    unreachable=True,
                )
            delay = self._policy.delay(attempt, retry_after)
            if waited + delay > self._policy.budget:
                raise ApiError(
                    self._scrub(
                        f"{self.name} {what}: {problem} (asked to wait {delay:.0f}s, "
                        f"beyond the {self._policy.budget:.0f}s retry budget)"
                    ),
                    status,
                    unreachable=True,
                )
            self._policy.sleep(delay)
            waited += delay

    def _reason(self, response: httpx.Response) -> str:
        body = _json_or_none(response)
        message = self._explain(body) if body is not None else None
        text = message if message else response.text
        # Redact the whole text first: a secret cut in half would no longer match.
        text = " ".join(self._scrub(str(text)).split())
        if len(text) > _EXCERPT:
            text = text[: _EXCERPT - 3].rstrip() + "..."
        return f": {text}" if text else ""


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
