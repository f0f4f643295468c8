"""Shared setup for the GitHub tests: a config with github:, a fake token, no waiting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsctl.engine.context import RunContext
from opsctl.git import github as github_module
from opsctl.notify.deliver import RetryPolicy
from tests.notify.support import Sleeps
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


def run(name: str, status: str = "completed", conclusion: str | None = "success") -> dict[str, Any]:
    return {"name": name, "status": status, "conclusion": conclusion, "html_url": f"https://ci.example.test/{name}"}


def status(context: str, state: str) -> dict[str, Any]:
    return {"context": context, "state": state, "description": state, "target_url": None}
