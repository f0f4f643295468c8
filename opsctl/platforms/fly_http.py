"""A small client for the Fly Machines API: auth, timeouts, retries, error translation.

Retry policy (STYLE 9):
- 429 is retried for every call: the server refused it before doing anything.
- 5xx and transport errors are retried only for idempotent calls (GET, DELETE).
- A connection that could not be opened is retried for every call (nothing was sent).
- Anything else that fails a non-idempotent call (POST) after it may have reached
  the server raises :class:`FlyAmbiguous`; the caller must read the state before
  deciding whether to send it again.

Waits honour ``Retry-After`` (seconds or an HTTP date) and otherwise back off
exponentially with jitter. Error messages pass through the redactor (before
any truncation) so that the token never leaves this module.

Every call ends by a wall-clock deadline (connect + read timeout; a ``wait``
call's read timeout covers its server-side wait) and reads at most 1 MiB of
answer (:mod:`opsctl.net.bounded`). Tokens made by ``fly tokens create deploy``
start with ``FlyV1 `` and are sent as they are (``Authorization: FlyV1 ...``,
as flyctl does); any other token is sent as ``Bearer``.

Only :mod:`opsctl.platforms.fly` imports this module, and the factory imports
that lazily, so the top-level ``import httpx`` stays off the ``--help`` path.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from opsctl.errors import BadInput, OpsctlError, RunFailed
from opsctl.net import bounded
from opsctl.net.deadline import Deadline
from opsctl.net.headers import header_value
from opsctl.net.retry import parse_retry_after
from opsctl.values.redact import Redactor

# The wait endpoint holds a request for up to this many seconds (server side).
MAX_WAIT_SECONDS = 60
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
# Extra read time on top of a wait call's server-side timeout: the answer (200 or
# 408) arrives just after it, and a read timeout there would be a false error.
WAIT_READ_MARGIN = 15.0
DEFAULT_TIMEOUT = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
MAX_ATTEMPTS = 5
MAX_RETRY_AFTER = 60.0
DEFAULT_TOKEN_ENV = "FLY_API_TOKEN"  # noqa: S105 - the variable flyctl reads, not a token

_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# Errors raised before any byte of the request left this process.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class FlyApiError(RunFailed):
    """The Fly API refused or failed a call (after any retries)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class FlyAmbiguous(FlyApiError):
    """A non-idempotent call failed in a way that leaves its effect unknown."""


def authorization(token: str) -> str:
    """The ``Authorization`` value for a Fly token: ``FlyV1 ...`` tokens as they are, others as Bearer."""
    if token.startswith("FlyV1 "):
        return token
    return f"Bearer {token}"


def read_token(token_env: str, environ: Mapping[str, str]) -> tuple[str, str]:
    """The Fly token and the variable it came from: ``token_env``, else ``FLY_API_TOKEN`` (flyctl's own).

    BadInput, naming ``token_env``, when neither is set, or when the token
    cannot be sent as a header (it names the variable, never the value).
    """
    for name in dict.fromkeys((token_env, DEFAULT_TOKEN_ENV)):
        token = environ.get(name, "").strip()
        if token:
            return header_value(name, "Authorization", token, "Fly API calls"), name
    raise BadInput(f"{token_env} is not set: export a Fly API token (fly tokens create deploy) in {token_env}")


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, capped at MAX_RETRY_AFTER."""
    seconds = parse_retry_after(value, now)
    return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


class FlyClient:
    """Calls of the Machines API for one app, over an injected or owned ``httpx.Client``."""

    def __init__(
        self,
        base_url: str,
        app: str,
        token: str,
        *,
        client: httpx.Client | None = None,
        redactor: Redactor | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: float = 0.5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app = app
        self._token = token
        self._owns_client = client is None
        self._http = client or bounded.client(timeout=DEFAULT_TIMEOUT)
        self._redactor = redactor or Redactor()
        self._redactor.add(token)
        self._sleep = sleep
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    # -- the calls the driver uses ---------------------------------------------------

    def list_machines(self) -> list[dict[str, Any]]:
        data = self._json(self.request("GET", "machines"))
        if not isinstance(data, list):
            raise FlyApiError(f"unexpected answer listing machines of {self.app}")
        return [m for m in data if isinstance(m, dict)]

    def get_machine(self, machine_id: str) -> dict[str, Any]:
        return self._object(self.request("GET", f"machines/{machine_id}"))

    def acquire_lease(self, machine_id: str, ttl: int, description: str, nonce: str | None = None) -> httpx.Response:
        """POST a lease (or renew ours with ``nonce``); 409 answers are returned, not raised."""
        headers = {"fly-machine-lease-nonce": nonce} if nonce else None
        return self.request(
            "POST",
            f"machines/{machine_id}/lease",
            params={"ttl": ttl},
            json={"ttl": ttl, "description": description},
            headers=headers,
            ok=(200, 201, 409),
        )

    def get_lease(self, machine_id: str) -> dict[str, Any] | None:
        response = self.request("GET", f"machines/{machine_id}/lease", ok=(200, 404))
        if response.status_code == 404:
            return None
        data = self._object(response).get("data")
        return data if isinstance(data, dict) else None

    def release_lease(self, machine_id: str, nonce: str) -> None:
        self.request(
            "DELETE",
            f"machines/{machine_id}/lease",
            headers={"fly-machine-lease-nonce": nonce},
            ok=(200, 204, 404),
        )

    def update_machine(self, machine_id: str, config: Mapping[str, Any], nonce: str) -> dict[str, Any]:
        """POST a new config. Raises :class:`FlyAmbiguous` when the outcome is unknown."""
        response = self.request(
            "POST",
            f"machines/{machine_id}",
            json={"config": dict(config)},
            headers={"fly-machine-lease-nonce": nonce},
        )
        return self._object(response)

    def wait_state(self, machine_id: str, instance_id: str, state: str, timeout: int) -> bool:
        """Block server-side until ``instance_id`` reaches ``state``; False when the call timed out (408)."""
        seconds = max(1, min(MAX_WAIT_SECONDS, int(timeout)))
        response = self.request(
            "GET",
            f"machines/{machine_id}/wait",
            # `version` is this project's contract; `instance_id` is the public API's name.
            params={"state": state, "version": instance_id, "instance_id": instance_id, "timeout": seconds},
            ok=(200, 408),
            timeout=httpx.Timeout(seconds + WAIT_READ_MARGIN, connect=CONNECT_TIMEOUT),
        )
        return response.status_code == 200

    # -- transport ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """One API call under ``/v1/apps/{app}/``, with the retry policy of this module."""
        url = f"{self.base_url}/v1/apps/{self.app}/{path}"
        what = f"{method} {path}"
        idempotent = method in {"GET", "HEAD", "DELETE"}
        send_headers = {"Authorization": authorization(self._token), **(headers or {})}
        # Explicit on every call, so an injected client's defaults cannot remove them.
        limits = timeout or DEFAULT_TIMEOUT
        total = (limits.connect or CONNECT_TIMEOUT) + (limits.read or READ_TIMEOUT)
        for attempt in range(1, self._max_attempts + 1):
            last = attempt == self._max_attempts
            try:
                response = bounded.send(
                    self._http,
                    method,
                    url,
                    deadline=Deadline.after(total),
                    timeout=limits,
                    params=params,
                    json=json,
                    headers=send_headers,
                )
            except bounded.ResponseTooLarge as exc:
                # The call was answered, but its answer cannot be read: for a POST its effect is unknown.
                cls = FlyApiError if idempotent else FlyAmbiguous
                raise cls(self._clean(f"Fly API {what}: {exc}"), exc.status) from None
            except (httpx.TransportError, httpx.DecodingError) as exc:
                if not (idempotent or isinstance(exc, _NOT_SENT)):
                    raise FlyAmbiguous(self._clean(f"Fly API {what}: no answer ({type(exc).__name__})")) from None
                if last:
                    raise FlyApiError(
                        self._clean(f"Fly API {what}: cannot reach {self.base_url} ({type(exc).__name__})")
                    ) from None
                self._sleep(self._delay(attempt, None))
                continue
            status = response.status_code
            if status in ok:
                return response
            if status in _RETRYABLE_STATUS and not last and (idempotent or status == 429):
                self._sleep(self._delay(attempt, response.headers.get("Retry-After")))
                continue
            raise self._error(what, response, ambiguous=not idempotent and status >= 500)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        asked = retry_after_seconds(retry_after)
        if asked is not None:
            return asked
        base = min(self._backoff * 2.0 ** (attempt - 1), 20.0)
        return float(base * (0.5 + random.random() / 2))  # noqa: S311 - jitter, not cryptography

    def _error(self, what: str, response: httpx.Response, *, ambiguous: bool) -> OpsctlError:
        status = response.status_code
        reason = _error_text(response, self._clean)
        if status == 401:
            return FlyApiError(self._clean(f"Fly API refused the token (401 on {what}): {reason}"), status)
        if status == 404 and what == "GET machines":
            return BadInput(f"fly app '{self.app}' not found at {self.base_url}")
        cls = FlyAmbiguous if ambiguous else FlyApiError
        return cls(self._clean(f"Fly API {what}: HTTP {status}: {reason}"), status)

    def _clean(self, text: str) -> str:
        return self._redactor.text(text)

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise FlyApiError(f"Fly API answered {response.request.method} with invalid JSON") from None

    def _object(self, response: httpx.Response) -> dict[str, Any]:
        data = self._json(response)
        if not isinstance(data, dict):
            raise FlyApiError(f"Fly API answered {response.request.method} with an unexpected body")
        return data


def _error_text(response: httpx.Response, clean: Callable[[str], str]) -> str:
    """The API's reason, redacted by ``clean`` *before* it is cut to 200 characters."""
    try:
        data = response.json()
    except ValueError:
        return clean(response.text).strip()[:200] or response.reason_phrase
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return clean(str(data["error"]))[:200]
    return response.reason_phrase
