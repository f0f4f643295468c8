"""A small GitHub REST client for the deploy gates: checks, statuses, pull requests and reviews.

Reads only. Every request (and every redirect it follows) has explicit
timeouts, ends by a wall-clock deadline and reads at most 1 MiB of answer
(:mod:`opsctl.net.bounded`); 429, 5xx and rate-limit 403s are retried within
a short budget, honouring ``Retry-After`` and the ``x-ratelimit-reset``
header; lists are paginated through ``Link`` headers. Error texts are
redacted before they are cut.
The token comes from the env var named by ``github.token_env`` and is
registered with the run's redactor before it is first used.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput
from opsctl.net import bounded
from opsctl.net.deadline import Deadline
from opsctl.net.retry import RetryPolicy, is_retryable, parse_retry_after, transport_problem

if TYPE_CHECKING:
    import httpx

    from opsctl.config import Config
    from opsctl.values.redact import Redactor

API_VERSION = "2022-11-28"
MAX_PAGES = 10  # 1,000 items: more check runs or reviews than any commit should have
GITHUB_POLICY = RetryPolicy(attempts=3, backoff=1.0, max_delay=4.0, budget=8.0, connect_timeout=5.0, read_timeout=15.0)


class GitHubError(Exception):
    """The GitHub API could not answer; the message is one line for the user (no token)."""


@dataclass(frozen=True)
class CheckRun:
    name: str
    status: str  # queued | in_progress | completed | waiting | requested | pending
    conclusion: str | None  # success | failure | neutral | cancelled | skipped | timed_out | action_required | stale
    url: str | None = None
    details_url: str | None = None  # an Actions job's: .../actions/runs/<run id>/job/<job id>


@dataclass(frozen=True)
class CommitStatus:
    context: str
    state: str  # success | pending | failure | error
    description: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class PullRequest:
    number: int
    title: str
    author: str
    state: str
    merged_at: str | None
    merge_commit_sha: str | None
    url: str | None = None


@dataclass(frozen=True)
class Review:
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING
    submitted_at: str | None = None


class GitHub:
    """The repository ``owner/name`` on the GitHub REST API at ``api_url``."""

    def __init__(
        self,
        repo: str,
        token: str,
        *,
        api_url: str = "https://api.github.com",
        token_env: str = "GITHUB_TOKEN",  # noqa: S107 - the variable's name, not a token
        client: httpx.Client | None = None,
        policy: RetryPolicy | None = None,
        now: Callable[[], float] = time.time,
        redactor: Redactor | None = None,
    ) -> None:
        from opsctl import __version__
        from opsctl.values.redact import Redactor

        policy = policy or GITHUB_POLICY  # read at call time: tests shorten the module's policy
        self.repo = repo
        self.token_env = token_env
        self._token = token
        self._policy = policy
        self._now = now
        self._own_client = client is None
        self._client = client or bounded.client(timeout=policy.timeout())
        self._redactor = redactor or Redactor()
        self._redactor.add(token)  # a proxy may echo the request back
        self._base = api_url.rstrip("/")
        self._headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"opsctl/{__version__}",
        }

    @classmethod
    def from_config(cls, config: Config, redactor: Redactor, **kwargs: Any) -> GitHub:
        """A client for ``github:`` in opsctl.yaml; BadInput when it or the token is missing."""
        import os

        settings = config.github
        if settings is None:
            raise BadInput(f"{config.path.name} has no github: section; add github: {{repo: owner/name}} to it")
        token = os.environ.get(settings.token_env, "").strip()
        if not token:
            raise BadInput(
                f"{settings.token_env} is not set: export a GitHub token with repo:status and pull request read access"
            )
        redactor.add(token)
        return cls(
            settings.repo, token, api_url=settings.api_url, token_env=settings.token_env, redactor=redactor, **kwargs
        )

    def close(self) -> None:
        if self._own_client:
            self._client.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the endpoints the gates use ------------------------------------------------------------

    def commit_sha(self, ref: str) -> str:
        """The full sha of ``ref`` (a sha prefix, branch or tag) on GitHub."""
        data = self._get(f"/repos/{self.repo}/commits/{ref}").json()
        return str(data["sha"])

    def check_runs(self, sha: str) -> list[CheckRun]:
        """The latest check run of each name for commit ``sha``."""
        return [
            CheckRun(
                str(run.get("name")),
                str(run.get("status")),
                run.get("conclusion"),
                run.get("html_url"),
                run.get("details_url"),
            )
            for run in self._pages(f"/repos/{self.repo}/commits/{sha}/check-runs", "check_runs")
        ]

    def statuses(self, sha: str) -> list[CommitStatus]:
        """The latest commit status of each context (the combined status) for ``sha``."""
        return [
            CommitStatus(str(s.get("context")), str(s.get("state")), s.get("description"), s.get("target_url"))
            for s in self._pages(f"/repos/{self.repo}/commits/{sha}/status", "statuses")
        ]

    def pulls_for_commit(self, sha: str) -> list[PullRequest]:
        """Pull requests associated with ``sha`` (the merged one, once the commit is on the default branch)."""
        return [
            PullRequest(
                number=int(p["number"]),
                title=str(p.get("title") or ""),
                author=str((p.get("user") or {}).get("login") or ""),
                state=str(p.get("state")),
                merged_at=p.get("merged_at"),
                merge_commit_sha=p.get("merge_commit_sha"),
                url=p.get("html_url"),
            )
            for p in self._pages(f"/repos/{self.repo}/commits/{sha}/pulls")
        ]

    def reviews(self, number: int) -> list[Review]:
        """Every review of pull request ``number``, oldest first."""
        return [
            Review(str((r.get("user") or {}).get("login") or ""), str(r.get("state")), r.get("submitted_at"))
            for r in self._pages(f"/repos/{self.repo}/pulls/{number}/reviews")
        ]

    # -- transport --------------------------------------------------------------------------------

    def _pages(self, path: str, key: str | None = None) -> Iterator[dict[str, Any]]:
        """Items of a list endpoint (a JSON array, or the array under ``key``), following ``Link: next``."""
        url: str | None = self._base + path
        params: dict[str, Any] | None = {"per_page": 100}
        for _ in range(MAX_PAGES):
            if url is None:
                return
            response = self._get(url, params)
            body = response.json()
            items = body.get(key, []) if key is not None and isinstance(body, dict) else body
            if not isinstance(items, list):
                raise GitHubError(f"GitHub answered {path} with unexpected JSON")
            yield from (item for item in items if isinstance(item, dict))
            url = response.links.get("next", {}).get("url")
            params = None  # the next link carries its own query

    def _get(self, path_or_url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        import httpx

        url = path_or_url if path_or_url.startswith(("http://", "https://")) else self._base + path_or_url
        path = url.removeprefix(self._base).split("?", 1)[0]
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                response = bounded.send(
                    self._client,
                    "GET",
                    url,
                    deadline=Deadline.after(self._policy.request_deadline),
                    follow_redirects=True,
                    params=params,
                    headers=self._headers,
                )
            except bounded.ResponseTooLarge as exc:
                raise GitHubError(f"GitHub API {path}: {exc}") from None
            except httpx.HTTPError as exc:
                problem, wait = f"GitHub API {path}: {transport_problem(exc)}", None
            else:
                if response.is_success:
                    return response
                problem, wait = self._problem(path, response)
                if not self._retryable(response):
                    raise GitHubError(problem)
            if attempt >= self._policy.attempts:
                raise GitHubError(f"{problem} (gave up after {attempt} attempts)")
            delay = self._policy.delay(attempt, wait)
            if waited + delay > self._policy.budget:
                raise GitHubError(problem)
            self._policy.sleep(delay)
            waited += delay

    def _retryable(self, response: httpx.Response) -> bool:
        return is_retryable(response.status_code) or self._rate_limited(response)

    @staticmethod
    def _rate_limited(response: httpx.Response) -> bool:
        if response.status_code not in (403, 429):
            return False
        return response.headers.get("x-ratelimit-remaining") == "0" or "rate limit" in response.text.lower()

    def _problem(self, path: str, response: httpx.Response) -> tuple[str, float | None]:
        """The error in words, and how long GitHub asks us to wait (None: retry with backoff, or not at all)."""
        status = response.status_code
        try:
            message = self._redactor.text(str(response.json().get("message") or ""))
        except (ValueError, AttributeError):
            message = self._redactor.excerpt(response.text, 160)  # redacted, then cut
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if self._rate_limited(response):
            reset = response.headers.get("x-ratelimit-reset")
            if retry_after is None and reset and reset.isdigit():
                retry_after = max(0.0, int(reset) - self._now())
                at = datetime.fromtimestamp(int(reset), UTC).strftime("%H:%M:%S UTC")
                return f"GitHub API rate limit exceeded (resets at {at}): {message}", retry_after
            if retry_after is None:
                retry_after = 60.0  # GitHub asks for at least a minute when it gives no hint
            return f"GitHub API rate limit exceeded (retry after {retry_after:.0f}s): {message}", retry_after
        if status == 401:
            return f"GitHub rejected the token from {self.token_env} (HTTP 401): {message}", None
        if status == 403:
            return f"GitHub refused {path} (HTTP 403): {message}; check the token's access to {self.repo}", None
        if status == 404:
            return (
                f"GitHub answered 404 for {path}: check github.repo ({self.repo}) and that the token "
                f"from {self.token_env} can read it"
            ), None
        if status == 422:
            return f"GitHub cannot answer {path} (HTTP 422): {message}", None
        return f"GitHub API {path}: HTTP {status}" + (f": {message}" if message else ""), retry_after
