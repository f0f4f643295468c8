"""An incident's ticket as a GitHub issue: open it (labels from the severity), comment, close it.

Uses ``github:`` from opsctl.yaml (repo, token_env, api_url) and the REST
endpoints ``POST /repos/{repo}/issues``, ``POST .../issues/{n}/comments`` and
``PATCH .../issues/{n}``. Creating is never re-sent after an ambiguous
failure (see :mod:`opsctl.net.jsonapi`): a duplicate ticket is worse than a
clear error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsctl.git.rest import github_api
from opsctl.net.jsonapi import ApiError, JsonApi

if TYPE_CHECKING:
    from opsctl.config import Config
    from opsctl.values.redact import Redactor


@dataclass(frozen=True)
class Issue:
    number: int
    url: str


def issues_api(config: Config, redactor: Redactor) -> tuple[JsonApi, str]:
    """A client for ``github.api_url`` with the token, and the repository; BadInput when either is missing."""
    unset = "notify.github_issue needs github: {repo: owner/name} in opsctl.yaml"
    return github_api(config, redactor, unset=unset, purpose="write issues")


def open_issue(api: JsonApi, repo: str, title: str, body: str, labels: list[str]) -> Issue:
    answer = api.call("POST", f"/repos/{repo}/issues", json={"title": title, "body": body, "labels": labels})
    data = answer.body if isinstance(answer.body, dict) else {}
    number = data.get("number")
    # Only a positive whole number is an issue: True, "12", -3 or 1e400 are an answer gone wrong.
    if type(number) is not int or number < 1:
        raise ApiError("GitHub answered without an issue number")
    return Issue(number, str(data.get("html_url") or ""))


def comment(api: JsonApi, repo: str, number: int, body: str) -> None:
    api.call("POST", f"/repos/{repo}/issues/{number}/comments", json={"body": body})


def close(api: JsonApi, repo: str, number: int) -> None:
    api.call("PATCH", f"/repos/{repo}/issues/{number}", json={"state": "closed", "state_reason": "completed"})
