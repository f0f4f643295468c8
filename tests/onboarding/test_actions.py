"""The onboarding items a machine checks: tools, AWS credentials (STS on moto), config, deploys in the audit log."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from opsctl.actions.onboarding import ToolsParams, tools
from opsctl.engine.checklist import ItemResult
from opsctl.onboarding import run_onboarding
from tests.onboarding.support import ALICE, BOB, record_deploy, workspace
from tests.support import moto_server as aws_support
from tests.support.context import make_ctx
from tests.support.moto_server import MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws

SHADOW_MISSING = (
    "no staging deploy by alice@example.com in the audit log yet: sit with a mentor and run "
    "`opsctl deploy staging --image IMAGE` together"
)
SUPERVISED_MISSING = (
    "no supervised staging deploy by alice@example.com in the audit log yet{others}: with your "
    "mentor, run `opsctl deploy staging --image IMAGE --supervisor MENTOR`"
)


def outcome(tmp_path: Path, week: str, item_id: str, **kwargs: Any) -> ItemResult:
    done = run_onboarding(workspace(tmp_path, actor=kwargs.pop("actor", ALICE)), week=week, **kwargs)
    assert done.result is not None
    return next(i for i in done.result.items if i.id == item_id)


def test_tools_report_their_versions(tmp_path: Path) -> None:
    result = outcome(tmp_path, "1", "dev-tools")
    assert result.status.value == "passed", result.summary
    assert re.fullmatch(r"Python 3\.\d+\.\d+, git \d+(\.\d+)+, opsctl \d+\.\d+\.\d+", result.summary), result.summary
    assert set(result.detail["versions"]) == {"Python", "git", "opsctl"}


def test_tools_name_what_is_missing_or_too_old(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    old = tools(ctx, ToolsParams(min_python="99.0", commands=["no-such-tool-for-opsctl"]))
    assert old.status.value == "failed"
    assert re.fullmatch(
        r"Python 3\.\d+\.\d+ is older than 99\.0: install Python 99\.0 or newer and recreate the virtualenv; "
        r"no-such-tool-for-opsctl is not installed \(not on PATH\) \(found: Python 3\.\d+\.\d+, opsctl .+\)",
        old.summary,
    ), old.summary


def test_aws_credentials_are_checked_with_sts(tmp_path: Path, aws: MotoServer) -> None:
    result = outcome(tmp_path, "1", "aws-credentials")
    assert (result.status.value, result.summary) == (
        "passed",
        "AWS credentials work: arn:aws:sts::123456789012:user/moto (account 123456789012)",
    )
    assert result.detail["region"] == "eu-west-1"  # the staging environment's region


def test_missing_aws_credentials_fail_the_item_with_how_to_set_them(tmp_path: Path) -> None:
    result = outcome(tmp_path, "1", "aws-credentials")
    assert (result.status.value, result.summary) == (
        "failed",
        (
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or run `aws sso login`; then run `opsctl onboard` again"
        ),
    )


def test_an_unknown_aws_profile_fails_the_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nobody-has-this-profile")
    result = outcome(tmp_path, "1", "aws-credentials")
    assert result.status.value == "failed"
    assert result.summary.startswith("AWS profile ")  # awsclient's words; it calls an AWS_PROFILE one 'None'


def test_config_item_names_a_broken_file(tmp_path: Path) -> None:
    assert outcome(tmp_path, "1", "opsctl-config").summary.startswith(
        "opsctl.yaml is valid (staging, production); 3 runbooks and "
    )
    (tmp_path / "checklists").mkdir()
    (tmp_path / "checklists" / "broken.yaml").write_text("title: Broken\nitems:\n  - id: x\n    uses: manual\n")
    result = outcome(tmp_path, "1", "opsctl-config")
    assert result.status.value == "failed"
    # The loader's own words follow the file:line (they are pinned by the loader's tests).
    assert result.summary.startswith("`opsctl config check` fails: checklists/broken.yaml:3: items -> 0 -> title: ")


def test_shadow_and_supervised_deploys_come_from_the_audit_log(tmp_path: Path) -> None:
    shadow = outcome(tmp_path, "2", "shadow-deploy")
    assert (shadow.status.value, shadow.summary) == ("failed", SHADOW_MISSING)

    run = record_deploy(workspace(tmp_path))  # alice deploys to staging, no supervisor recorded
    shadow = outcome(tmp_path, "2", "shadow-deploy")
    assert shadow.status.value == "passed"
    assert re.fullmatch(
        rf"deploy of hvb:1\.8\.0 to staging by {ALICE} on \S+ \S+ \(succeeded; run {run}\)", shadow.summary
    ), shadow.summary
    supervised = outcome(tmp_path, "3", "supervised-deploy")
    assert (supervised.status.value, supervised.summary) == (
        "failed",
        SUPERVISED_MISSING.format(others=" (1 without --supervisor)"),
    )

    run = record_deploy(workspace(tmp_path), supervisor=BOB, status="rolled_back")
    supervised = outcome(tmp_path, "3", "supervised-deploy")
    assert supervised.status.value == "passed"
    assert supervised.summary.endswith(f"(rolled_back, supervised by {BOB}; run {run})")
    assert supervised.detail["run"] == run


@pytest.mark.parametrize(
    "deploy",
    [
        {"dry_run": True, "supervisor": BOB},  # a dry run changes nothing
        {"status": "failed", "supervisor": BOB},  # stopped by its gates: no rollout happened
        {"env": "production", "supervisor": BOB},  # another environment
        {"supervisor": ALICE},  # supervising oneself
        {"actor": BOB, "supervisor": ALICE},  # someone else's deploy
    ],
)
def test_deploys_that_do_not_count(tmp_path: Path, deploy: dict[str, Any]) -> None:
    record_deploy(workspace(tmp_path, actor=deploy.pop("actor", ALICE)), **deploy)
    supervised = outcome(tmp_path, "3", "supervised-deploy")
    assert supervised.status.value == "failed"
    assert supervised.summary.startswith("no supervised staging deploy by alice@example.com in the audit log yet")


def test_who_names_the_person_whose_deploys_count(tmp_path: Path) -> None:
    record_deploy(workspace(tmp_path, actor=BOB), supervisor=ALICE)
    supervised = outcome(tmp_path, "3", "supervised-deploy", who=BOB)  # alice (the mentor) runs it for bob
    assert supervised.status.value == "passed", supervised.summary
    assert f"by {BOB}" in supervised.summary
    assert f"supervised by {ALICE}" in supervised.summary
