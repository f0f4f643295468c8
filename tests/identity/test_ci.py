"""Which CI pipeline runs opsctl: recorded on a run's started event, never a token."""

from __future__ import annotations

from opsctl.identity.ci import ci_fields, ci_origin


def test_github_actions_names_its_run() -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "hvb/bot",
        "GITHUB_RUN_ID": "42",
        "GITHUB_WORKFLOW": "deploy",
        "GITHUB_TOKEN": "ghs_secretsecret",
    }
    assert ci_origin(env) == {
        "provider": "github",
        "url": "https://github.com/hvb/bot/actions/runs/42",
        "workflow": "deploy",
    }


def test_other_providers_and_plain_ci() -> None:
    assert ci_origin({"GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example/j/1"}) == {
        "provider": "gitlab",
        "url": "https://gitlab.example/j/1",
    }
    assert ci_origin({"BUILDKITE": "true"}) == {"provider": "buildkite"}
    assert ci_origin({"CI": "TRUE"}) == {"provider": "ci"}


def test_outside_ci_nothing_is_recorded() -> None:
    assert ci_origin({}) is None
    assert ci_origin({"CI": "false"}) is None
    assert ci_fields({}) == {}
    assert ci_fields({"CI": "true"}) == {"ci": {"provider": "ci"}}
