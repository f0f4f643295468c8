"""examples/github-actions/deploy.yml: its opsctl commands are real commands and flags, and it does what it says."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.config import load_config
from tests.docs.cli import check

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "examples" / "github-actions" / "deploy.yml"
SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "2>&1"}


def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def opsctl_lines(script: str) -> list[list[str]]:
    """The words after ``opsctl`` of every opsctl command in a ``run:`` script (continuations joined)."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        if not line.strip().startswith("opsctl "):
            continue
        words = shlex.split(line.strip(), comments=True)
        end = next((i for i, w in enumerate(words) if w in SHELL_OPERATORS), len(words))
        found.append(words[1:end])
    return found


def steps(job: str) -> list[dict[str, Any]]:
    return list(workflow()["jobs"][job]["steps"])


def deploy_step(job: str) -> dict[str, Any]:
    return next(s for s in steps(job) if any(w[:2] == ["--json", "deploy"] for w in opsctl_lines(s.get("run", ""))))


ALL_COMMANDS = [
    words for job in workflow()["jobs"].values() for step in job["steps"] for words in opsctl_lines(step.get("run", ""))
]


@pytest.mark.parametrize("words", ALL_COMMANDS, ids=" ".join)
def test_every_opsctl_command_is_valid(words: list[str]) -> None:
    code, output = check(words)
    assert code == 0, f"opsctl {' '.join(words)}:\n{output}"


def test_the_commands_it_runs() -> None:
    assert [" ".join(w[:3]) for w in ALL_COMMANDS] == [
        "--json deploy staging",
        "audit verify",
        "--json deploy production",
    ]


def test_staging_on_main_production_on_tags() -> None:
    data = workflow()
    trigger = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as true
    assert trigger == {"push": {"branches": ["main"], "tags": ["v*.*.*"]}}
    jobs = data["jobs"]
    assert "if" not in jobs["staging"]
    assert jobs["production"]["if"] == "github.ref_type == 'tag'"
    assert "staging" in jobs["production"]["needs"]  # production only takes what staging verified


@pytest.mark.parametrize("env", ["staging", "production"])
def test_non_interactive_and_json(env: str) -> None:
    words = opsctl_lines(deploy_step(env)["run"])[0]
    assert words[:3] == ["--json", "deploy", env]
    assert "--yes" in words


def test_production_passes_its_approver() -> None:
    words = opsctl_lines(deploy_step("production")["run"])[0]
    assert words[words.index("--approved-by") + 1] == "$APPROVER"
    job = workflow()["jobs"]["production"]
    assert job["environment"] == "production"  # required reviewers approve here
    assert deploy_step("production")["env"]["APPROVER"] == "${{ steps.approval.outputs.approver }}"


@pytest.mark.parametrize("env", ["staging", "production"])
def test_one_concurrency_group_per_environment(env: str) -> None:
    concurrency = workflow()["jobs"][env]["concurrency"]
    assert concurrency == {"group": f"opsctl-{env}", "cancel-in-progress": False}


@pytest.mark.parametrize("env", ["staging", "production"])
def test_secrets_come_from_github_secrets_under_the_names_opsctl_yaml_gives(env: str) -> None:
    config = load_config(REPO / "opsctl.yaml")
    platform = config.environments[env].platform
    names = {getattr(platform, "token_env", None)} | {
        getattr(channel, key)
        for channel in (config.notify.slack, config.notify.pagerduty, config.notify.webhook)
        if channel is not None
        for key in ("webhook_env", "routing_key_env", "url_env")
        if hasattr(channel, key)
    }
    names.discard(None)
    assert names, "opsctl.yaml names no secrets?"
    given = deploy_step(env)["env"]
    for name in names:
        assert given.get(name) == f"${{{{ secrets.{name} }}}}", name


def test_no_expression_inside_a_shell_script() -> None:
    """``${{ }}`` in `run:` is pasted into the script before bash runs (injection); values go through env."""
    for job in workflow()["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step.get("name")


@pytest.mark.parametrize("env", ["staging", "production"])
def test_the_audit_log_is_kept(env: str) -> None:
    state_dir = load_config(REPO / "opsctl.yaml").state_dir
    upload = next(s for s in steps(env) if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"  # failed runs are the ones worth keeping
    assert upload["with"]["path"] == f"{state_dir}/audit.jsonl"
    assert upload["with"]["include-hidden-files"] is True
    assert upload["with"]["name"] == f"opsctl-audit-{env}"


def test_production_starts_from_the_staging_log() -> None:
    names = [s.get("uses") or s.get("name") for s in steps("production")]
    download = next(s for s in steps("production") if str(s.get("uses", "")).startswith("actions/download-artifact@"))
    assert download["with"] == {"name": "opsctl-audit-staging", "path": ".opsctl"}
    assert names.index(download["uses"]) < names.index(deploy_step("production")["name"])
