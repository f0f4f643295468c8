"""The OCI distribution API, read-only: resolve ``name:tag`` to the digest it names now.

``HEAD /v2/<name>/manifests/<ref>`` with the Accept headers for OCI and
Docker manifests and indexes; a GET (at most 4 MiB) only when the registry
does not send ``Docker-Content-Digest`` or the answer is an index whose
platforms are worth naming.

Auth follows the registry's challenge: ``Bearer realm=...,service=...,scope=...``
gets a token from the realm (with the user name and password from the env
vars named in ``registries:``, else anonymously); ``Basic`` gets those
credentials directly. Credentials go only to HTTPS, or to a registry reached
over plain HTTP on purpose (loopback or ``insecure: true``).

Retries (STYLE 9): 429 and 5xx and transport errors are retried (every call
here is a read; not a request that timed out once connected: a hung registry
stays hung), 429 after its ``Retry-After`` when that fits the wait
budget; past the budget the registry is unavailable (exit 5) rather than
waited for. Every request ends by a wall-clock deadline and reads a capped
body (:mod:`opsctl.net.bounded`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput
from opsctl.net import bounded
from opsctl.net.deadline import Deadline
from opsctl.net.errors import connect_error
from opsctl.net.headers import header_value
from opsctl.net.retry import RetryPolicy, is_retryable, parse_retry_after
from opsctl.registry.hosts import Endpoint
from opsctl.registry.model import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    ImageNotFound,
    RegistryDenied,
    RegistryProblem,
    RegistryUnavailable,
    Resolved,
)
from opsctl.values.imageref import ImageRef
from opsctl.values.redact import Redactor

if TYPE_CHECKING:
    import httpx

MAX_MANIFEST = 4 * 1024 * 1024  # the distribution spec's own limit on a manifest
DEFAULT_POLICY = RetryPolicy(
    attempts=3, backoff=0.5, max_delay=2.0, budget=10.0, connect_timeout=5.0, read_timeout=10.0
)
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class OciRegistry:
    """One repository of one registry (``endpoint``), read over the distribution API."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        environ: Mapping[str, str] | None = None,
        redactor: Redactor | None = None,
        client: httpx.Client | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self.endpoint = endpoint
        self._environ = os.environ if environ is None else environ
        self._redactor = redactor or Redactor()
        self._policy = policy
        self._owns = client is None
        self._http = client or bounded.client(timeout=policy.timeout())
        self._auth: str | None = None  # the Authorization header that worked, for the next request

    def close(self) -> None:
        if self._owns:
            self._http.close()

    def __enter__(self) -> OciRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one question ----------------------------------------------------------

    def resolve(self, ref: ImageRef) -> Resolved:
        """The digest ``ref`` names now; ImageNotFound naming repository and tag, RegistryDenied, or unavailable."""
        reference = ref.digest or ref.tag or "latest"
        path = f"/v2/{self.endpoint.repository}/manifests/{reference}"
        head = self._request("HEAD", path, ref)
        media = head.headers.get("content-type", "").split(";")[0].strip()
        digest = head.headers.get("docker-content-digest", "").strip()
        platforms: tuple[str, ...] = ()
        if not digest or media in INDEX_TYPES:
            body = self._request("GET", path, ref)
            media = body.headers.get("content-type", "").split(";")[0].strip() or media
            digest = digest or "sha256:" + hashlib.sha256(body.content).hexdigest()
            platforms = _platforms(body.content) if media in INDEX_TYPES else ()
        if media not in MANIFEST_TYPES:
            # Asked for exactly these types: anything else (a web page, a proxy's JSON) has no digest worth pinning.
            shown = media or "no content type"
            raise RegistryProblem(
                f"registry {self.endpoint.host} answered {shown} for {ref}, not an image manifest (is it a registry?)"
            )
        if ref.digest and digest != ref.digest:
            raise RegistryProblem(f"registry {self.endpoint.host} answered {digest} for {ref}; expected {ref.digest}")
        return Resolved(ref, digest, media, self.endpoint.host, platforms)

    # -- transport, retries and auth -----------------------------------------------

    def _request(self, method: str, path: str, ref: ImageRef) -> httpx.Response:
        url = self.endpoint.base_url + path
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        challenged = False
        waited = 0.0
        attempt = 0
        while True:
            if self._auth:
                headers["Authorization"] = self._auth
            response = self._send(method, url, headers)
            status = response.status_code
            if status == 200:
                return response
            if status == 404:
                raise self._not_found(ref, response)
            if status == 401 and not challenged:
                # The challenge is part of the protocol, not a failure: answer it once.
                self._auth = self._authenticate(response)
                challenged = True
                continue
            if status in (401, 403):
                raise self._denied(status)
            attempt += 1
            if is_retryable(status) and attempt < self._policy.attempts:
                delay = self._policy.delay(attempt, parse_retry_after(response.headers.get("retry-after")))
                if waited + delay <= self._policy.budget:
                    self._policy.sleep(delay)
                    waited += delay
                    continue
            raise self._failed(response, ref)

    def _send(self, method: str, url: str, headers: Mapping[str, str]) -> httpx.Response:
        import httpx

        waited = 0.0
        for attempt in range(1, self._policy.attempts + 1):
            try:
                return bounded.send(
                    self._http,
                    method,
                    url,
                    deadline=Deadline.after(self._policy.request_deadline),
                    max_bytes=MAX_MANIFEST,
                    headers=dict(headers),
                )
            except bounded.ResponseTooLarge as exc:
                raise RegistryProblem(f"registry {self.endpoint.host}: manifest {exc}") from None
            except (httpx.TransportError, httpx.DecodingError) as exc:
                delay = self._policy.delay(attempt, None)
                # A registry that took the request and then hung stays hung: asking again multiplies the wait.
                hung = isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout)
                if hung or attempt == self._policy.attempts or waited + delay > self._policy.budget:
                    raise RegistryUnavailable(
                        self._clean(f"registry {self.endpoint.host} is unreachable: {connect_error(url, exc)}")
                    ) from None
                self._policy.sleep(delay)
                waited += delay
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _credentials(self) -> tuple[str, str] | None:
        access = self.endpoint.access
        if access.username_env is None or access.password_env is None:
            return None
        purpose = f"registry {self.endpoint.host}"
        values = []
        for var in (access.username_env, access.password_env):
            raw = self._environ.get(var, "")
            if not raw:
                raise BadInput(f"environment variable {var} is not set (registries.{self.endpoint.host} names it)")
            values.append(header_value(var, "Authorization", raw, purpose))
        self._redactor.add(values[1])
        return values[0], values[1]

    def _authenticate(self, response: httpx.Response) -> str:
        """The Authorization header the registry's challenge asks for (a bearer token, or basic credentials)."""
        challenge = response.headers.get("www-authenticate", "")
        scheme, _, rest = challenge.strip().partition(" ")
        params = dict(_CHALLENGE.findall(rest))
        credentials = self._credentials()
        if scheme.lower() == "basic":
            if credentials is None:
                raise self._denied(401)
            return _basic(credentials)
        if scheme.lower() != "bearer" or not params.get("realm"):
            raise RegistryProblem(
                f"registry {self.endpoint.host} answered 401 with an unknown challenge ({scheme or 'none'})"
            )
        return self._token(params, credentials)

    def _token(self, params: Mapping[str, str], credentials: tuple[str, str] | None) -> str:
        import httpx

        realm = params["realm"]
        if not realm.startswith(("https://", "http://")):
            raise RegistryProblem(f"registry {self.endpoint.host} names a token realm that is not a URL: {realm}")
        headers = {"Accept": "application/json"}
        if credentials is not None:
            realm_host = httpx.URL(realm).host
            if realm.startswith("http://") and not (self.endpoint.plain_http or _loopback_host(realm_host)):
                raise RegistryProblem(
                    f"registry {self.endpoint.host} asks for credentials over plain HTTP ({realm}); "
                    f"refusing to send them (mark the registry insecure: true if that is intended)"
                )
            headers["Authorization"] = _basic(credentials)
        query = {"scope": params.get("scope") or f"repository:{self.endpoint.repository}:pull"}
        if params.get("service"):
            query["service"] = params["service"]
        url = str(httpx.URL(realm, params=query))
        answer = self._send("GET", url, headers)
        if answer.status_code in (401, 403):
            raise self._denied(answer.status_code)
        if answer.status_code != 200:
            if is_retryable(answer.status_code):
                raise RegistryUnavailable(
                    f"registry {self.endpoint.host}: its token service answered HTTP {answer.status_code}; try again"
                )
            raise RegistryProblem(
                f"registry {self.endpoint.host}: its token service answered HTTP {answer.status_code}"
            )
        try:
            data = answer.json()
        except ValueError:
            data = None
        token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryProblem(f"registry {self.endpoint.host}: its token service answered without a token")
        self._redactor.add(token)
        return f"Bearer {token}"

    # -- one-line failures ---------------------------------------------------------

    def _not_found(self, ref: ImageRef, response: httpx.Response) -> ImageNotFound:
        code = _error_code(response)
        where = f"repository {self.endpoint.repository} of registry {self.endpoint.host}"
        if code == "NAME_UNKNOWN":
            return ImageNotFound(f"{ref}: {where} does not exist")
        if ref.digest:
            return ImageNotFound(f"{ref}: digest {ref.digest} not found in {where}")
        return ImageNotFound(f"{ref}: tag {ref.tag or 'latest'} not found in {where}")

    def _denied(self, status: int) -> RegistryDenied:
        access = self.endpoint.access
        host = self.endpoint.host
        if access.username_env is None:
            return RegistryDenied(
                f"registry {host} needs credentials to read {self.endpoint.repository} (HTTP {status}; or it does "
                f"not exist): set registries.{host}.username_env and password_env in opsctl.yaml"
            )
        return RegistryDenied(
            f"registry {host} refused the credentials in {access.username_env}/{access.password_env} "
            f"for {self.endpoint.repository} (HTTP {status}): check them and their pull permission"
        )

    def _failed(self, response: httpx.Response, ref: ImageRef) -> RegistryProblem | RegistryUnavailable:
        status = response.status_code
        host = self.endpoint.host
        if status == 429:
            after = response.headers.get("retry-after")
            wait = f", Retry-After {after.strip()}s" if after and after.strip().isdigit() else ""
            return RegistryUnavailable(
                f"registry {host} is rate limiting requests (HTTP 429{wait}); try again later, or configure "
                f"credentials under registries.{host} for a higher limit"
            )
        if status >= 500:
            return RegistryUnavailable(f"registry {host} answered HTTP {status} for {ref}; try again")
        return RegistryProblem(self._clean(f"registry {host} answered HTTP {status} for {ref}{_error_text(response)}"))

    def _clean(self, text: str) -> str:
        return self._redactor.text(text)


def _basic(credentials: tuple[str, str]) -> str:
    import base64

    raw = f"{credentials[0]}:{credentials[1]}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _loopback_host(host: str) -> bool:
    from opsctl.registry.hosts import is_loopback

    return is_loopback(host)


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        data = json.loads(response.content or b"{}")
    except ValueError:
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _error_code(response: httpx.Response) -> str:
    errors = _errors(response)
    return str(errors[0].get("code", "")) if errors else ""


def _error_text(response: httpx.Response) -> str:
    errors = _errors(response)
    if not errors:
        return ""
    first = errors[0]
    return f": {first.get('code', '')} {str(first.get('message', ''))[:200]}".rstrip()


def _platforms(body: bytes) -> tuple[str, ...]:
    """``os/arch[/variant]`` of each manifest an index lists (attestation entries left out)."""
    try:
        data = json.loads(body)
    except ValueError:
        return ()
    found: list[str] = []
    for entry in data.get("manifests", []) if isinstance(data, dict) else []:
        platform = entry.get("platform") if isinstance(entry, dict) else None
        if not isinstance(platform, dict) or platform.get("os") in (None, "unknown"):
            continue
        text = f"{platform.get('os')}/{platform.get('architecture')}"
        if platform.get("variant"):
            text += f"/{platform['variant']}"
        found.append(text)
    return tuple(dict.fromkeys(found))
