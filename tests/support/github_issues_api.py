"""A GitHub issues stand-in on 127.0.0.1: create, comment on and close issues of one repository.

``Authorization: Bearer <token>`` is required (else 401 ``{"message": "Bad
credentials"}``); another repository is 404 ``{"message": "Not Found"}``; a
missing title is 422 ``{"message": "Validation Failed", "errors": [...]}``.
State: ``issues`` (number -> title, body, labels, state, comments).
"""

from __future__ import annotations

from typing import Any

from tests.support.api_server import Recorded, Reply, StandIn

TOKEN = "gh-issues-t0ken-abcdef0123456789"
REPO = "acme/hvb"


class GitHubIssuesApi(StandIn):
    name = "GitHub"

    def __init__(self, token: str = TOKEN, repo: str = REPO) -> None:
        super().__init__()
        self.token = token
        self.repo = repo
        self.issues: dict[int, dict[str, Any]] = {}

    def answer(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"message": "Bad credentials"})
        base = f"/repos/{self.repo}/issues"
        body = request.body if isinstance(request.body, dict) else {}
        if request.path == base and request.method == "POST":
            if not body.get("title"):
                return Reply(
                    422, {"message": "Validation Failed", "errors": [{"field": "title", "code": "missing_field"}]}
                )
            number = len(self.issues) + 1
            self.issues[number] = {
                "title": body["title"],
                "body": body.get("body"),
                "labels": list(body.get("labels") or []),
                "state": "open",
                "comments": [],
            }
            return Reply(201, self._json(number))
        if not request.path.startswith(base + "/"):
            return Reply(404, {"message": "Not Found"})
        rest = request.path[len(base) + 1 :].split("/")
        number = int(rest[0]) if rest[0].isdigit() else 0
        if number not in self.issues:
            return Reply(404, {"message": "Not Found"})
        if rest[1:] == ["comments"] and request.method == "POST":
            self.issues[number]["comments"].append(body.get("body"))
            return Reply(201, {"id": len(self.issues[number]["comments"]), "body": body.get("body")})
        if not rest[1:] and request.method == "PATCH":
            self.issues[number]["state"] = body.get("state", self.issues[number]["state"])
            self.issues[number]["state_reason"] = body.get("state_reason")
            return Reply(200, self._json(number))
        return Reply(404, {"message": "Not Found"})

    def _json(self, number: int) -> dict[str, Any]:
        issue = self.issues[number]
        return {
            "number": number,
            "html_url": f"https://github.example.test/{self.repo}/issues/{number}",
            "title": issue["title"],
            "state": issue["state"],
            "labels": [{"name": label} for label in issue["labels"]],
        }
