"""Issue 13, item 17 (second half): promotion counts only what the S3 mirror's signed checkpoints hold.

A forged local line with recomputed hashes never reached the bucket, and the
bucket alone cannot vouch for it without the signing key. Real parts only:
moto ECS and S3 on 127.0.0.1, the two sandbox bots, the CLI in-process.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.policy.support import MINIMAL_PRE_DEPLOY, Project, ServiceBot, error_line, output, step_events
from tests.e2e.policy.test_forged_promotion import FORGED_IMAGE, FORGED_RUN, forge_staging_verification
from tests.support import moto_server as aws_support
from tests.support.moto_server import MotoServer, create_ecs_service
from tests.support.team import DEAD_ENDPOINT

moto_server = aws_support.moto_server
aws = aws_support.aws

BUCKET = "hvb-audit"
SIGNING_ENV = "HVB_CHECKPOINT_KEY"
HMAC_ENV = "HVB_AUDIT_KEY"
NOT_IN_RECORD = (
    f"error: the verification record of run {FORGED_RUN} in staging is not in the signed S3 audit record; "
    "refusing to count it"
)


def _private_pem() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = Ed25519PrivateKey.generate()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No config, actor, colour, proxy or git config from the caller's shell (as tests/e2e/policy/conftest.py)."""
    monkeypatch.chdir(tmp_path)
    for name in ("OPSCTL_CONFIG", "OPSCTL_ACTOR", "FORCE_COLOR", "GITHUB_STEP_SUMMARY", HMAC_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "250")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv(SIGNING_ENV, _private_pem())


@pytest.fixture
def project(tmp_path: Path, aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """staging and protected production on moto ECS, both running hvb:1.7.0, and the audit bucket."""
    aws.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": aws.region})
    staging = create_ecs_service(aws, cluster="hvb-staging")
    production = create_ecs_service(aws, cluster="hvb-production", family="hvb-prod")
    with ServiceBot(staging) as staging_bot, ServiceBot(production) as production_bot:
        made = Project(tmp_path / "project", staging, production, staging_bot, production_bot)
        made.setup()
        monkeypatch.chdir(made.path)
        yield made


def _configure(project: Project, aws: MotoServer, *, endpoint: str | None = None, **audit: Any) -> None:
    """production promoted from staging; the S3 mirror signing its checkpoints with an Ed25519 key."""
    s3 = {"bucket": BUCKET, "prefix": "opsctl/", "endpoint_url": endpoint or aws.endpoint_url}
    project.configure(
        production={"requires": {"promoted_from": "staging"}},
        audit={"s3": {**s3, "signing_key_env": SIGNING_ENV}, **audit},
    )


def _checkpoints(aws: MotoServer) -> list[dict[str, Any]]:
    s3 = aws.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="opsctl/checkpoints/").get("Contents", [])]
    return [json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()) for key in keys]


def test_a_pushed_staging_verification_promotes(project: Project, aws: MotoServer) -> None:
    _configure(project, aws)
    assert project.deploy("staging", "hvb:1.8.0").exit_code == 0
    staging_run = project.last_run()
    (checkpoint,) = _checkpoints(aws)
    assert checkpoint["runs"] == [staging_run]
    assert checkpoint["sig"]["alg"] == "ed25519"
    assert base64.b64decode(checkpoint["sig"]["value"])

    promoted = project.deploy("production", "hvb:1.8.0")

    assert promoted.exit_code == 0, output(promoted)
    assert project.image("production").endswith("hvb:1.8.0")
    (passed,) = step_events(project.events(project.last_run()), "policy.promotion")
    assert passed["summary"].startswith(f"hvb:1.8.0 was verified on staging (run {staging_run}, ")


def test_a_forged_staging_verification_is_refused_before_any_change(project: Project, aws: MotoServer) -> None:
    _configure(project, aws)
    assert project.deploy("staging", "hvb:1.8.0").exit_code == 0
    forge_staging_verification(project)
    project.write("checklists/pre-deploy.yaml", MINIMAL_PRE_DEPLOY)  # only the engine's policy stands in the way

    result = project.deploy("production", FORGED_IMAGE, confirms=())

    assert result.exit_code == 1, output(result)
    assert error_line(result) == NOT_IN_RECORD
    assert project.image("production") == "hvb:1.7.0"
    assert project.invoke("audit", "verify").exit_code == 0  # the recomputed chain verifies locally
    # The refused run went up with a checkpoint whose head follows the forged lines: that signs the
    # chain, not the forged run, whose own object never reached the bucket.
    assert len(_checkpoints(aws)) == 2
    again = project.deploy("production", FORGED_IMAGE, confirms=())
    assert again.exit_code == 1, output(again)
    assert error_line(again) == NOT_IN_RECORD


def test_a_staging_verification_not_pushed_yet_asks_for_a_push(project: Project, aws: MotoServer) -> None:
    _configure(project, aws, endpoint=DEAD_ENDPOINT)  # S3 is down: the staging run waits in the local queue
    assert project.deploy("staging", "hvb:1.8.0").exit_code == 0
    staging_run = project.last_run()
    _configure(project, aws)  # S3 is back, nothing was pushed yet

    refused = project.deploy("production", "hvb:1.8.0")

    assert refused.exit_code == 1, output(refused)
    assert error_line(refused) == (
        f"error: run {staging_run} in staging is not yet in the signed S3 audit record; "
        "run `opsctl audit push` and try again"
    )
    assert project.image("production") == "hvb:1.7.0"
    pushed = project.invoke("audit", "push")
    assert pushed.exit_code == 0, output(pushed)
    promoted = project.deploy("production", "hvb:1.8.0")
    assert promoted.exit_code == 0, output(promoted)
    assert project.image("production").endswith("hvb:1.8.0")


def test_an_unreachable_bucket_is_exit_5_before_any_change(project: Project, aws: MotoServer) -> None:
    _configure(project, aws)
    assert project.deploy("staging", "hvb:1.8.0").exit_code == 0
    staging_run = project.last_run()
    _configure(project, aws, endpoint=DEAD_ENDPOINT)

    result = project.deploy("production", "hvb:1.8.0")

    assert result.exit_code == 5, output(result)
    assert error_line(result) == (
        f"error: cannot read the signed S3 audit record s3://{BUCKET}/opsctl/ to count run {staging_run} of "
        "staging: S3 is unreachable; nothing was changed, try again"
    )
    assert project.image("production") == "hvb:1.7.0"


def test_with_hmac_and_signed_checkpoints_both_must_hold(
    project: Project, aws: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HMAC_ENV, "a key only the CI runners hold")
    _configure(project, aws, hmac_key_env=HMAC_ENV)
    assert project.deploy("staging", "hvb:1.8.0").exit_code == 0
    assert project.deploy("production", "hvb:1.8.0").exit_code == 0
    # A second run, so that the start-up check resumes after it and the forged lines reach the gate.
    assert project.deploy("staging", "hvb:1.8.0", "--dry-run").exit_code == 0
    forge_staging_verification(project)
    project.write("checklists/pre-deploy.yaml", MINIMAL_PRE_DEPLOY)

    result = project.deploy("production", FORGED_IMAGE, confirms=())

    assert result.exit_code == 1, output(result)
    assert error_line(result) == (
        f"error: the verification record of run {FORGED_RUN} in staging has no valid HMAC (audit.hmac_key_env); "
        "refusing to count it"
    )
    assert project.image("production").endswith("hvb:1.8.0")
