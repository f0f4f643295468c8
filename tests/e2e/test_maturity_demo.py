"""`opsctl maturity` on the demo project (moto ECS and the demo bot on 127.0.0.1): a level, and its evidence.

Real deploys through the CLI: one from a laptop, one inside a (simulated) GitHub
Actions job, whose run opsctl records as started by that pipeline.
"""

from __future__ import annotations

import json

import pytest

from opsctl.sandbox.demo import GOOD_IMAGE, open_sandbox
from tests.support.cli_env import CONFIRMS
from tests.support.clirunner import opsctl

CI_VARS = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "CIRCLECI", "GITHUB_RUN_ID", "GITHUB_REPOSITORY")


@pytest.mark.timeout(180)
def test_maturity_on_the_demo_project_names_a_level_and_the_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CI_VARS:
        monkeypatch.delenv(name, raising=False)
    with open_sandbox() as sandbox:
        config = str(sandbox.config_path)
        deploy = ("--config", config, "deploy", "staging", "--image", GOOD_IMAGE, "--timeout", "30s", *CONFIRMS)
        first = opsctl(*deploy)
        assert first.code == 0, first.out + first.err
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
        monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
        monkeypatch.setenv("GITHUB_REPOSITORY", "hvb/bot")
        monkeypatch.setenv("GITHUB_RUN_ID", "7")
        second = opsctl(*deploy[:5], "hvb:1.8.1", *deploy[6:])
        assert second.code == 0, second.out + second.err
        for name in ("GITHUB_ACTIONS", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"):
            monkeypatch.delenv(name)
        started = [json.loads(line) for line in sandbox.audit_path.read_text().splitlines()]
        started = [e for e in started if e.get("step") == "run" and e.get("status") == "started"]
        assert [e.get("ci") for e in started] == [
            None,
            {"provider": "github", "url": "https://github.com/hvb/bot/actions/runs/7"},
        ]

        human = opsctl("--config", config, "maturity")
        assert human.code == 0, human.err
        assert human.out.splitlines()[0] == "hotel-voice-bot: Level 1: Basic Operations"
        done = opsctl("--config", config, "--json", "maturity")
        assert done.code == 0, done.err
    data = json.loads(done.out)
    assert (data["level"], data["level_name"]) == (1, "Level 1: Basic Operations")
    by_key = {c["key"]: c for c in data["criteria"]}
    assert by_key["deploys-recorded"]["evidence"] == "2 runs of deploy in the last 90d, every step in the audit log"
    assert by_key["health-checks"]["evidence"] == (
        "every environment has a health check (staging), probed after every change"
    )
    assert by_key["automated-deploys"] == by_key["automated-deploys"] | {
        "status": "not met",
        "evidence": "1 of 2 changes in any environment (none is protected) ran from CI (50%) in the last 90d",
    }
    assert by_key["auto-rollback"]["status"] == "met"
    assert by_key["runbooks-docs"]["status"] == "not met"  # the demo project has no generated docs
    assert by_key["slo-measured"]["status"] == "not met"
    assert data["next_level"]["level"] == 2
