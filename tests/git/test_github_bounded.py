"""The GitHub client against a hostile API on 127.0.0.1: capped answers, redirects, redact-then-cut errors."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from opsctl.git.github import GitHub, GitHubError
from opsctl.notify.deliver import RetryPolicy
from tests.notify.support import Sleeps
from tests.support.hostile import HostileServer

TOKEN = "ghs_canaryTokenForTheBoundedTests0123"
REPO = "acme/hvb"
SHA = "b" * 40


@pytest.fixture
def api() -> Iterator[HostileServer]:
    with HostileServer(drip=0.2) as server:
        yield server


def client(api: HostileServer, **policy: float) -> GitHub:
    settings = {"attempts": 1, "connect_timeout": 2.0, "read_timeout": 2.0, **policy}
    return GitHub(REPO, TOKEN, api_url=api.base, policy=RetryPolicy(sleep=Sleeps(), **settings))  # type: ignore[arg-type]


def test_an_endless_answer_is_a_github_error(api: HostileServer) -> None:
    api.misbehave(f"/repos/{REPO}/commits/{SHA}", "/endless")
    started = time.monotonic()
    with client(api) as github, pytest.raises(GitHubError) as caught:
        github.commit_sha(SHA)
    assert str(caught.value) == f"GitHub API /repos/{REPO}/commits/{SHA}: response too large (over 1 MiB)"
    assert time.monotonic() - started < 3.0


def test_a_dripping_answer_ends_by_the_deadline(api: HostileServer) -> None:
    api.misbehave(f"/repos/{REPO}/commits/{SHA}", "/drip")
    started = time.monotonic()
    with client(api, connect_timeout=0.5, read_timeout=0.5) as github, pytest.raises(GitHubError) as caught:
        github.commit_sha(SHA)
    assert str(caught.value) == (
        f"GitHub API /repos/{REPO}/commits/{SHA}: no answer within the timeout (gave up after 1 attempts)"
    )
    assert time.monotonic() - started < 2.0


def test_redirects_are_followed_within_the_bounds(api: HostileServer) -> None:
    api.answer(f"/repos/{REPO}/commits/{SHA}", status=301, headers={"Location": f"/repositories/7/commits/{SHA}"})
    api.answer(f"/repositories/7/commits/{SHA}", body={"sha": SHA})
    with client(api) as github:
        assert github.commit_sha(SHA) == SHA
    assert [r.path for r in api.requests] == [f"/repos/{REPO}/commits/{SHA}", f"/repositories/7/commits/{SHA}"]


def test_an_echoed_token_is_redacted_before_the_message_is_cut(api: HostileServer) -> None:
    api.answer(f"/repos/{REPO}/commits/{SHA}", status=403, body="<html>" + "p" * 144 + TOKEN + " denied</html>")
    with client(api) as github, pytest.raises(GitHubError) as caught:
        github.commit_sha(SHA)
    message = str(caught.value)
    assert TOKEN[:6] not in message
    assert message == (
        f"GitHub refused /repos/{REPO}/commits/{SHA} (HTTP 403): <html>{'p' * 144}*** den...; "
        f"check the token's access to {REPO}"
    )
