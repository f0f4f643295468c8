"""GitHub Deployments: what runs where, on the repository's Environments page.

REST endpoints (API version 2022-11-28):

- ``POST /repos/{repo}/deployments``: one deployment per change, for the
  environment, of ``ref`` (the image's commit when known, else its tag), with
  ``auto_merge: false`` and ``required_contexts: []`` (opsctl's own gates
  decided already; GitHub must neither merge nor wait);
- ``POST /repos/{repo}/deployments/{id}/statuses``: ``in_progress``,
  ``success``, ``failure``, and ``inactive`` for the deployment a success
  replaced (explicitly, with ``auto_inactive: false``: GitHub's own
  auto-inactivation skips production and transient environments);
- ``GET /repos/{repo}/deployments?environment=`` and ``GET .../statuses``:
  finding the replaced deployment (the newest other one whose latest status
  is ``success``).

Calls go through :class:`opsctl.net.jsonapi.JsonApi` with a short policy: the
callers are best effort and must not hold a deploy up. A creating POST is
never re-sent after an ambiguous failure (a second deployment is worse than none).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsctl.git.rest import github_api
from opsctl.net.jsonapi import ApiError, JsonApi
from opsctl.net.retry import RetryPolicy

if TYPE_CHECKING:
    from opsctl.config import Config
    from opsctl.values.redact import Redactor

# At most ~5s per call: a GitHub outage costs a deploy seconds, never minutes.
POLICY = RetryPolicy(attempts=2, backoff=0.5, max_delay=1.0, budget=2.0, connect_timeout=2.0, read_timeout=5.0)
DESCRIPTION_MAX = 140  # GitHub refuses longer descriptions (422)
REPLACED_SCAN = 10  # deployments looked at when searching the one a success replaced

__all__ = ["ApiError", "DeploymentRequest", "Deployments", "StatusUpdate", "ci_log_url", "short"]


def short(text: str, limit: int = DESCRIPTION_MAX) -> str:
    """``text`` cut to GitHub's limit, on one line."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


@dataclass(frozen=True)
class DeploymentRequest:
    """One deployment: ``ref`` to ``environment``, and what opsctl knows of it (``payload``)."""

    ref: str
    environment: str
    task: str
    description: str
    transient: bool
    production: bool
    payload: Mapping[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "task": self.task,
            "auto_merge": False,
            "required_contexts": [],
            "payload": dict(self.payload),
            "environment": self.environment,
            "description": short(self.description),
            "transient_environment": self.transient,
            "production_environment": self.production,
        }


@dataclass(frozen=True)
class StatusUpdate:
    """A deployment status; URLs are left out when unknown (GitHub rejects empty ones)."""

    state: str  # in_progress | success | failure | error | inactive
    description: str
    environment_url: str | None = None
    log_url: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"state": self.state, "description": short(self.description)}
        if self.environment_url:
            body["environment_url"] = self.environment_url
        if self.log_url:
            body["log_url"] = self.log_url
        body["auto_inactive"] = False
        return body


class Deployments:
    """The deployments of one repository."""

    def __init__(self, api: JsonApi, repo: str) -> None:
        self.api = api
        self.repo = repo

    @classmethod
    def from_config(cls, config: Config, redactor: Redactor, **kwargs: Any) -> Deployments:
        """A client for ``github:`` (repo, token_env, api_url); BadInput when the section or the token is missing."""
        policy = kwargs.pop("policy", None) or POLICY
        api, repo = github_api(
            config,
            redactor,
            unset="github: is not configured in opsctl.yaml",
            purpose="write deployments",
            policy=policy,
            **kwargs,
        )
        return cls(api, repo)

    def close(self) -> None:
        self.api.close()

    def create(self, request: DeploymentRequest) -> tuple[int, str | None]:
        """The new deployment's id and API URL (ApiError, one line, when GitHub refuses or cannot answer)."""
        answer = self.api.call("POST", f"/repos/{self.repo}/deployments", json=request.body())
        data = answer.body if isinstance(answer.body, dict) else {}
        if not isinstance(data.get("id"), int):
            # 202: GitHub merged the default branch first instead (only with auto_merge, which is off).
            raise ApiError(f"GitHub answered {answer.status} without a deployment id: {short(str(data), 100)}")
        return int(data["id"]), data.get("url")

    def set_status(self, deployment: int, update: StatusUpdate) -> None:
        self.api.call("POST", f"/repos/{self.repo}/deployments/{deployment}/statuses", json=update.body())

    def replaced(self, environment: str, current: int) -> int | None:
        """The deployment ``current`` replaces: the newest other one of ``environment`` whose last status is success."""
        answer = self.api.call(
            "GET", f"/repos/{self.repo}/deployments", params={"environment": environment, "per_page": REPLACED_SCAN}
        )
        for item in answer.body if isinstance(answer.body, list) else []:
            number = item.get("id") if isinstance(item, dict) else None
            if not isinstance(number, int) or number == current:
                continue
            statuses = self.api.call("GET", f"/repos/{self.repo}/deployments/{number}/statuses", params={"per_page": 1})
            latest = statuses.body[0] if isinstance(statuses.body, list) and statuses.body else {}
            state = latest.get("state") if isinstance(latest, dict) else None
            if state == "success":
                return number
            if state in (None, "inactive"):
                continue  # older ones were replaced before: keep looking for the one that was live
        return None


def ci_log_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The GitHub Actions run this process is part of (its log), or None outside Actions."""
    env = os.environ if environ is None else environ
    server, repo, run = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
    if not (server and repo and run):
        return None
    attempt = env.get("GITHUB_RUN_ATTEMPT")
    return f"{server.rstrip('/')}/{repo}/actions/runs/{run}" + (f"/attempts/{attempt}" if attempt else "")
