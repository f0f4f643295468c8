"""opsctl.git.github.GitHub: headers, pagination, retries, rate limits, errors in words."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from opsctl.errors import BadInput
from opsctl.git.github import GitHub, GitHubError
from opsctl.notify.deliver import RetryPolicy
from opsctl.values.redact import Redactor
from tests.notify.support import Sleeps
from tests.support.context import base_config, make_ctx
from tests.support.github import API, REPO, TOKEN, gh_ctx, repo_url, run

SHA = "a" * 40
NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def client(sleeps: Sleeps) -> GitHub:
    return GitHub(
        REPO,
        TOKEN,
        api_url=API,
        token_env="HVB_GH_TOKEN",
        now=lambda: NOW,
        policy=RetryPolicy(attempts=3, backoff=1.0, budget=8.0, sleep=sleeps),
    )


@respx.mock
def test_requests_carry_the_api_headers_and_follow_pages() -> None:
    second = f"{repo_url(f'/commits/{SHA}/check-runs')}?per_page=100&page=2"
    route = respx.get(repo_url(f"/commits/{SHA}/check-runs")).mock(
        side_effect=[
            httpx.Response(
                200,
                json={"total_count": 3, "check_runs": [run("lint"), run("unit")]},
                headers={"Link": f'<{second}>; rel="next", <{second}>; rel="last"'},
            ),
            httpx.Response(200, json={"total_count": 3, "check_runs": [run("e2e", "in_progress", None)]}),
        ]
    )

    with client(Sleeps()) as github:
        runs = github.check_runs(SHA)

    assert [(r.name, r.status, r.conclusion) for r in runs] == [
        ("lint", "completed", "success"),
        ("unit", "completed", "success"),
        ("e2e", "in_progress", None),
    ]
    first, following = route.calls[0].request, route.calls[1].request
    assert first.url.params["per_page"] == "100"
    assert following.url.params["page"] == "2"
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.headers["Accept"] == "application/vnd.github+json"
    assert first.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert first.headers["User-Agent"].startswith("opsctl/")


@respx.mock
def test_429_with_retry_after_then_200() -> None:
    route = respx.get(repo_url(f"/commits/{SHA}/status")).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}, json={"message": "slow down"}),
            httpx.Response(200, json={"state": "success", "statuses": [{"context": "ci", "state": "success"}]}),
        ]
    )
    sleeps = Sleeps()

    with client(sleeps) as github:
        statuses = github.statuses(SHA)

    assert route.call_count == 2
    assert sleeps == [3.0]
    assert [(s.context, s.state) for s in statuses] == [("ci", "success")]


@respx.mock
def test_rate_limit_reset_soon_is_waited_for() -> None:
    route = respx.get(repo_url("/pulls/7/reviews")).mock(
        side_effect=[
            httpx.Response(
                403,
                json={"message": "API rate limit exceeded for user ID 1."},
                headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 2)},
            ),
            httpx.Response(200, json=[{"user": {"login": "alice"}, "state": "APPROVED"}]),
        ]
    )
    sleeps = Sleeps()

    with client(sleeps) as github:
        reviews = github.reviews(7)

    assert route.call_count == 2
    assert sleeps == [2.0]
    assert [(r.user, r.state) for r in reviews] == [("alice", "APPROVED")]


@respx.mock
def test_rate_limit_reset_far_away_fails_at_once_saying_when() -> None:
    respx.get(repo_url("/pulls/7/reviews")).respond(
        403,
        json={"message": "API rate limit exceeded for user ID 1."},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 1800)},
    )
    sleeps = Sleeps()

    with client(sleeps) as github, pytest.raises(GitHubError) as caught:
        github.reviews(7)

    assert sleeps == []
    assert str(caught.value) == (
        "GitHub API rate limit exceeded (resets at 08:30:00 UTC): API rate limit exceeded for user ID 1."
    )


@respx.mock
def test_persistent_5xx_gives_up_after_the_attempts() -> None:
    route = respx.get(repo_url(f"/commits/{SHA}/pulls")).respond(502, text="<html>bad gateway</html>")
    sleeps = Sleeps()

    with client(sleeps) as github, pytest.raises(GitHubError) as caught:
        github.pulls_for_commit(SHA)

    assert route.call_count == 3
    assert sleeps == [1.0, 2.0]
    assert str(caught.value) == (
        f"GitHub API /repos/{REPO}/commits/{SHA}/pulls: HTTP 502: <html>bad gateway</html> (gave up after 3 attempts)"
    )


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (401, "Bad credentials", "GitHub rejected the token from HVB_GH_TOKEN (HTTP 401): Bad credentials"),
        (
            404,
            "Not Found",
            f"GitHub answered 404 for /repos/{REPO}/commits/main: check github.repo ({REPO}) "
            "and that the token from HVB_GH_TOKEN can read it",
        ),
        (
            422,
            "No commit found for SHA: main",
            f"GitHub cannot answer /repos/{REPO}/commits/main (HTTP 422): No commit found for SHA: main",
        ),
        (
            403,
            f"Resource not accessible with {TOKEN}",
            f"GitHub refused /repos/{REPO}/commits/main (HTTP 403): "
            f"Resource not accessible with ***; check the token's "
            f"access to {REPO}",
        ),
    ],
)
@respx.mock
def test_client_errors_are_not_retried_and_read_well(status: int, message: str, expected: str) -> None:
    route = respx.get(repo_url("/commits/main")).respond(status, json={"message": message})

    with client(Sleeps()) as github, pytest.raises(GitHubError) as caught:
        github.commit_sha("main")

    assert route.call_count == 1
    assert str(caught.value) == expected


def test_missing_github_section_is_bad_input(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, base_config())
    with pytest.raises(BadInput) as caught:
        GitHub.from_config(ctx.config, Redactor())
    assert str(caught.value) == "opsctl.yaml has no github: section; add github: {repo: owner/name} to it"


def test_missing_token_is_bad_input_naming_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    ctx = gh_ctx(tmp_path, monkeypatch, github={"repo": REPO})
    with pytest.raises(BadInput) as caught:
        GitHub.from_config(ctx.config, ctx.redactor)
    assert str(caught.value) == (
        "GITHUB_TOKEN is not set: export a GitHub token with repo:status and pull request read access"
    )


def test_the_token_is_registered_with_the_redactor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = gh_ctx(tmp_path, monkeypatch)
    assert ctx.redactor.text(f"x {TOKEN} y") == f"x {TOKEN} y"
    GitHub.from_config(ctx.config, ctx.redactor).close()
    assert ctx.redactor.text(f"x {TOKEN} y") == "x *** y"
