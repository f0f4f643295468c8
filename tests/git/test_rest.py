"""The GitHub REST client of issues and deployments, against the loopback GitHub issues stand-in."""

from __future__ import annotations

import pytest

from opsctl.config import Config
from opsctl.errors import BadInput
from opsctl.git.rest import explain, github_api
from opsctl.net.jsonapi import ApiError
from opsctl.values.redact import Redactor
from tests.support.github_issues_api import REPO, TOKEN, GitHubIssuesApi


def config(github: dict[str, object] | None) -> Config:
    body: dict[str, object] = {
        "service": "hvb",
        "environments": {"staging": {"platform": {"kind": "ecs", "cluster": "c", "service": "s", "container": "bot"}}},
    }
    if github is not None:
        body["github"] = github
    return Config.model_validate(body)


def test_the_client_carries_the_token_and_the_api_version_and_says_githubs_own_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HVB_GH_TOKEN", TOKEN)
    redactor = Redactor()
    with GitHubIssuesApi().running() as stand_in:
        settings = {"repo": REPO, "token_env": "HVB_GH_TOKEN", "api_url": stand_in.url}
        api, repo = github_api(config(settings), redactor, unset="unused", purpose="write issues")
        with api:
            assert repo == REPO
            with pytest.raises(ApiError) as caught:
                api.call("POST", f"/repos/{REPO}/issues", json={"title": ""})
        (request,) = stand_in.requests
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert str(caught.value) == f"GitHub refused POST /repos/{REPO}/issues: HTTP 422: Validation Failed (missing_field)"
    assert redactor.text(f"token {TOKEN}") == "token ***"


def test_no_github_section_is_the_callers_message() -> None:
    with pytest.raises(BadInput) as caught:
        github_api(config(None), Redactor(), unset="github: is not configured in opsctl.yaml", purpose="write issues")
    assert str(caught.value) == "github: is not configured in opsctl.yaml"


def test_an_empty_token_variable_says_what_the_token_must_be_able_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVB_GH_TOKEN", "  ")
    with pytest.raises(BadInput) as caught:
        github_api(config({"repo": REPO, "token_env": "HVB_GH_TOKEN"}), Redactor(), unset="-", purpose="write issues")
    assert str(caught.value) == "HVB_GH_TOKEN is not set: export a GitHub token that can write issues"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"message": "Not Found"}, "Not Found"),
        (
            {"message": "Validation Failed", "errors": [{"message": "bad ref"}, {"code": "invalid"}]},
            "Validation Failed (bad ref; invalid)",
        ),
        ({"errors": []}, None),
        ("plain text", None),
    ],
)
def test_explain_reads_githubs_error_shape(body: object, said: str | None) -> None:
    assert explain(body) == said
