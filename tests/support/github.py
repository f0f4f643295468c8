"""Shared setup for the GitHub tests: a config with github:, a fake token, no waiting; a Deployments stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsctl.engine.context import RunContext
from opsctl.git import github as github_module
from opsctl.notify.deliver import RetryPolicy
from tests.notify.support import Sleeps
from tests.support.api_server import Recorded, Reply, StandIn
from tests.support.context import base_config, make_ctx

API = "https://gh.example.test"
REPO = "acme/hvb"
TOKEN = "gh-test-token-0123456789abcdef"  # not a ghp_ shape: only registering it hides it
GITHUB = {"repo": REPO, "api_url": API, "token_env": "HVB_GH_TOKEN"}


def repo_url(path: str) -> str:
    return f"{API}/repos/{REPO}{path}"


def fast(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    sleeps = Sleeps()
    monkeypatch.setattr(github_module, "GITHUB_POLICY", RetryPolicy(attempts=3, backoff=1.0, budget=8.0, sleep=sleeps))
    return sleeps


def gh_ctx(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    github: dict[str, Any] | None = None,
    token: bool = True,
    env: str = "staging",
    **kwargs: Any,
) -> RunContext:
    """A context with github: configured; the token is exported after the workspace is built."""
    monkeypatch.delenv("HVB_GH_TOKEN", raising=False)
    config = base_config(github=GITHUB if github is None else github)
    config["environments"]["production"]["requires"] = {"approvals": 2}
    ctx = make_ctx(tmp_path, config, env=env, **kwargs)
    if token:
        monkeypatch.setenv("HVB_GH_TOKEN", TOKEN)
    return ctx


def run(
    name: str, status: str = "completed", conclusion: str | None = "success", *, details_url: str | None = None
) -> dict[str, Any]:
    found = {"name": name, "status": status, "conclusion": conclusion, "html_url": f"https://ci.example.test/{name}"}
    return found if details_url is None else {**found, "details_url": details_url}


def status(context: str, state: str) -> dict[str, Any]:
    return {"context": context, "state": state, "description": state, "target_url": None}


class GitHubDeploymentsApi(StandIn):
    """A GitHub Deployments stand-in on 127.0.0.1 (REST API 2022-11-28), for one repository.

    ``POST /repos/{repo}/deployments`` (201 with ``id``; 422 without ``ref``),
    ``POST .../deployments/{id}/statuses`` (201; 404 for an unknown deployment;
    422 for an unknown state), ``GET .../deployments?environment=`` and
    ``GET .../deployments/{id}/statuses``, both newest first as GitHub lists
    them. ``Authorization: Bearer <token>`` is required (else 401 "Bad credentials").
    State: ``deployments`` (id -> the created body) and ``statuses`` (id -> bodies, oldest first).
    """

    name = "GitHub"
    STATES = frozenset({"error", "failure", "inactive", "in_progress", "queued", "pending", "success"})

    def __init__(self, token: str = TOKEN, repo: str = REPO) -> None:
        super().__init__()
        self.token = token
        self.repo = repo
        self.deployments: dict[int, dict[str, Any]] = {}
        self.statuses: dict[int, list[dict[str, Any]]] = {}

    def answer(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"message": "Bad credentials"})
        base = f"/repos/{self.repo}/deployments"
        body = request.body if isinstance(request.body, dict) else {}
        if request.path == base:
            return self._create(body) if request.method == "POST" else self._list(request)
        rest = request.path.removeprefix(base + "/").split("/")
        number = int(rest[0]) if request.path.startswith(base + "/") and rest[0].isdigit() else 0
        if number not in self.deployments or rest[1:] != ["statuses"]:
            return Reply(404, {"message": "Not Found"})
        if request.method == "GET":
            return Reply(200, [self._status_json(number, i) for i in reversed(range(len(self.statuses[number])))])
        if body.get("state") not in self.STATES:
            return Reply(422, {"message": "Validation Failed", "errors": [{"field": "state", "code": "invalid"}]})
        self.statuses[number].append(body)
        return Reply(201, self._status_json(number, len(self.statuses[number]) - 1))

    def states(self, number: int) -> list[str]:
        """The states posted to deployment ``number``, oldest first."""
        return [str(s["state"]) for s in self.statuses.get(number, [])]

    def _create(self, body: dict[str, Any]) -> Reply:
        if not body.get("ref"):
            return Reply(422, {"message": "Validation Failed", "errors": [{"field": "ref", "code": "missing_field"}]})
        number = 100 + len(self.deployments) + 1
        self.deployments[number] = body
        self.statuses[number] = []
        return Reply(201, self._json(number))

    def _list(self, request: Recorded) -> Reply:
        wanted = (request.query.get("environment") or [None])[0]
        limit = int((request.query.get("per_page") or ["30"])[0])
        numbers = [
            n for n in sorted(self.deployments, reverse=True) if wanted in (None, self.deployments[n]["environment"])
        ]
        return Reply(200, [self._json(n) for n in numbers[:limit]])

    def _json(self, number: int) -> dict[str, Any]:
        body = self.deployments[number]
        return {
            "id": number,
            "url": f"https://api.github.example.test/repos/{self.repo}/deployments/{number}",
            "ref": body["ref"],
            "task": body.get("task", "deploy"),
            "environment": body.get("environment", "production"),
            "payload": body.get("payload", {}),
        }

    def _status_json(self, number: int, index: int) -> dict[str, Any]:
        status = self.statuses[number][index]
        return {"id": number * 1000 + index, "state": status["state"], "description": status.get("description", "")}
