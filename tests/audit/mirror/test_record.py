"""The signed S3 record as permission-granting gates read it (opsctl/audit/mirror/record.py), on moto S3."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

import tests.support.team as team_support
from opsctl.audit.evidence import run_evidence
from opsctl.audit.log import AuditLog
from opsctl.audit.mirror.record import SignedRecord, read_chain, signed, signed_record, unavailable
from opsctl.audit.mirror.s3 import Bucket
from opsctl.config import S3Audit
from opsctl.errors import BadInput, ExitCode
from opsctl.workspace import Workspace
from tests.support import moto_server as aws_support
from tests.support.team import BUCKET, Team, deploy, engineer

moto_server = aws_support.moto_server
aws = aws_support.aws
atomic_dynamodb = team_support.atomic_dynamodb
team = team_support.team

KEY_ENV = "OPSCTL_TEST_CHECKPOINT_KEY"


def _keys() -> tuple[str, str]:
    """A fresh Ed25519 key: (private PEM, public key as base64 of its raw bytes)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    return pem, base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


class CountingBucket(Bucket):
    """The real bucket, counting the requests the gates make."""

    def __init__(self, config: S3Audit) -> None:
        super().__init__(config)
        self.gets: list[str] = []
        self.lists: list[str] = []

    def get(self, key: str) -> bytes:
        self.gets.append(key)
        return super().get(key)

    def list(self, prefix: str, start_after: str | None = None) -> Any:
        self.lists.append(prefix)
        return super().list(prefix, start_after)


@pytest.fixture
def signing(monkeypatch: pytest.MonkeyPatch) -> str:
    pem, public = _keys()
    monkeypatch.setenv(KEY_ENV, pem)
    return public


def _record(ws: Workspace, bucket: Bucket | None = None) -> SignedRecord:
    made = signed_record(ws.config.audit.s3, ws.state_dir, ws.audit)
    assert made is not None
    if bucket is not None:
        made.bucket = bucket
    return made


def _problem(ws: Workspace, run_index: int = -1) -> str | None:
    evidence = run_evidence(ws.audit, "staging", central=_record(ws))
    return evidence.why_not(evidence.runs[run_index])


def _not_in_record(ws: Workspace, run_index: int = -1) -> str:
    run = run_evidence(ws.audit, "staging").runs[run_index].run
    return f"the verification record of run {run} in staging is not in the signed S3 audit record; refusing to count it"


def test_only_a_signing_mirror_is_a_signed_record(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    assert signed_record(None, tmp_path, log) is None
    assert signed_record(S3Audit(bucket=BUCKET), tmp_path, log) is None  # unsigned checkpoints vouch for nothing
    assert not signed(S3Audit(bucket=BUCKET))
    for extra in ({"signing_key_env": KEY_ENV}, {"kms_key_id": "alias/audit"}, {"public_key": "AAAA"}):
        assert signed(S3Audit(bucket=BUCKET, **extra))
        assert isinstance(signed_record(S3Audit(bucket=BUCKET, **extra), tmp_path, log), SignedRecord)


def test_a_mirrored_and_signed_run_counts(team: Team, tmp_path: Path, signing: str) -> None:
    ws = engineer(tmp_path, team.config(signing_key_env=KEY_ENV), "alice@example.com")
    deploy(ws)
    assert _problem(ws) is None
    # Only the public half is needed to check: a promoting host without the private key.
    reader = engineer(tmp_path, team.config(signing_key_env="OPSCTL_UNSET_KEY", public_key=signing), "ci")
    assert _problem(reader) is None


def test_an_edited_central_object_does_not_count(team: Team, tmp_path: Path, signing: str) -> None:
    del signing
    ws = engineer(tmp_path, team.config(signing_key_env=KEY_ENV), "alice@example.com")
    deploy(ws)
    (key,) = team.object_keys("runs/")
    s3 = team.s3()
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.replace(b'"actor":"alice@example.com"', b'"actor":"eve"', 1))
    assert _problem(ws) == _not_in_record(ws)


def test_a_central_object_that_tells_another_verdict_does_not_count(team: Team, tmp_path: Path, signing: str) -> None:
    del signing
    ws = engineer(tmp_path, team.config(signing_key_env=KEY_ENV), "alice@example.com")
    deploy(ws)
    (key,) = team.object_keys("runs/")
    s3 = team.s3()
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"".join(body.splitlines(keepends=True)[:-1]))  # no verdict line
    assert _problem(ws) == _not_in_record(ws)


def test_a_checkpoint_signed_by_another_key_does_not_count(
    team: Team, tmp_path: Path, signing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    del signing
    ws = engineer(tmp_path, team.config(signing_key_env=KEY_ENV), "alice@example.com")
    deploy(ws)
    _, other_public = _keys()
    monkeypatch.delenv(KEY_ENV)
    reader = engineer(tmp_path, team.config(signing_key_env=KEY_ENV, public_key=other_public), "ci")
    assert _problem(reader) == _not_in_record(reader)


def test_unsigned_checkpoints_do_not_count(team: Team, tmp_path: Path, signing: str) -> None:
    deploy(engineer(tmp_path, team.config(), "alice@example.com"))  # the mirror without a key ...
    reader = engineer(tmp_path, team.config(public_key=signing), "ci")  # ... then checked against one
    assert _problem(reader) == _not_in_record(reader)


def test_a_local_run_rewritten_after_its_checkpoint_does_not_count(team: Team, tmp_path: Path, signing: str) -> None:
    del signing
    ws = engineer(tmp_path, team.config(signing_key_env=KEY_ENV), "alice@example.com")
    deploy(ws)
    path = ws.audit.path
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"status":"', b'"status":"x', 1)  # the edited line no longer matches its hash
    path.write_bytes(b"".join(lines))
    assert read_chain(path).breaks == [2]
    assert _problem(ws) == _not_in_record(ws)


def test_a_run_still_queued_asks_for_a_push_without_reading_s3(team: Team, tmp_path: Path, signing: str) -> None:
    del signing
    from tests.support.team import DEAD_ENDPOINT

    ws = engineer(tmp_path, team.config(signing_key_env=KEY_ENV, s3_endpoint=DEAD_ENDPOINT), "alice@example.com")
    deploy(ws)
    run = run_evidence(ws.audit, "staging").runs[-1].run
    assert _problem(ws) == (
        f"run {run} in staging is not yet in the signed S3 audit record; run `opsctl audit push` and try again"
    )


def test_an_unreachable_bucket_is_exit_5_and_other_failures_exit_2(team: Team, tmp_path: Path, signing: str) -> None:
    del signing
    from botocore.exceptions import ClientError

    from opsctl.errors import OpsctlError
    from tests.support.team import DEAD_ENDPOINT

    ws = engineer(tmp_path, team.config(signing_key_env=KEY_ENV), "alice@example.com")
    deploy(ws)
    run = run_evidence(ws.audit, "staging").runs[-1].run
    down = engineer(tmp_path, team.config(signing_key_env=KEY_ENV, s3_endpoint=DEAD_ENDPOINT), "ci")
    with pytest.raises(OpsctlError) as caught:
        _problem(down)
    assert caught.value.exit_code == ExitCode.UNAVAILABLE == 5
    assert str(caught.value) == (
        f"cannot read the signed S3 audit record s3://{BUCKET}/opsctl/ to count run {run} of staging: "
        "S3 is unreachable; nothing was changed, try again"
    )
    busy = ClientError({"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "GetObject")
    assert unavailable(busy) == "S3 answered SlowDown"
    denied = ClientError({"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetObject")
    assert unavailable(denied) is None
    for key in team.object_keys():
        team.s3().delete_object(Bucket=BUCKET, Key=key)
    team.s3().delete_bucket(Bucket=BUCKET)
    with pytest.raises(BadInput) as gone:
        _problem(ws)
    day = f"{run[1:5]}/{run[5:7]}/{run[7:9]}"  # runs/YYYY/MM/DD/: the partition of the run's start day
    key = f"opsctl/runs/{day}/{run}.{read_chain(ws.audit.path).log}.jsonl"
    assert str(gone.value) == (
        f"reading s3://{BUCKET}/{key}: bucket {BUCKET} does not exist (see audit.s3.bucket in opsctl.yaml)"
    )


def test_a_missing_verification_key_is_bad_input(team: Team, tmp_path: Path, signing: str) -> None:
    del signing
    ws = engineer(tmp_path, team.config(signing_key_env=KEY_ENV), "alice@example.com")
    deploy(ws)
    reader = engineer(tmp_path, team.config(signing_key_env="OPSCTL_UNSET_KEY"), "ci")
    with pytest.raises(BadInput) as caught:
        _problem(reader)
    assert str(caught.value) == (
        "audit.s3.signing_key_env names OPSCTL_UNSET_KEY, which is not set: the signed S3 audit record cannot be "
        "checked; set it, or set audit.s3.public_key"
    )


def test_the_gates_read_only_until_the_newest_run_that_counts(team: Team, tmp_path: Path, signing: str) -> None:
    del signing
    ws = engineer(tmp_path, team.config(signing_key_env=KEY_ENV), "alice@example.com")
    for _ in range(3):
        deploy(ws)
    config = ws.config.audit.s3
    assert config is not None
    bucket = CountingBucket(config)
    evidence = run_evidence(ws.audit, "staging", central=_record(ws, bucket))
    newest = evidence.newest_counted(evidence.runs)
    assert newest is not None
    assert newest.run == evidence.runs[-1].run
    # One run object, one listing from its seq, one checkpoint: the two older runs are never read.
    assert [key.split("/")[1] for key in bucket.gets] == ["runs", "checkpoints"]
    assert newest.run in bucket.gets[0]
    assert len(bucket.lists) == 1


def test_rollback_targets_trust_only_what_the_record_covers(team: Team, tmp_path: Path, signing: str) -> None:
    del signing
    import json

    from opsctl.audit.line import encode_event

    ws = engineer(tmp_path, team.config(signing_key_env=KEY_ENV), "alice@example.com")
    deploy(ws, "hvb:1.8.0")
    last = json.loads(ws.audit.path.read_bytes().splitlines()[-1])
    base = {"run": "r-forged", "runbook": "deploy", "env": "staging", "actor": "eve", "ts": last["ts"]}
    release = {"id": "hvb:99", "image": "hvb:9.9.9"}
    forged = [
        {**base, "step": "run", "status": "started", "params": {"image": "hvb:9.9.9"}},
        {**base, "step": "run", "status": "succeeded", "release_after": release, "verified": True},
    ]
    prev, seq = last["hash"], last["seq"]
    with ws.audit.path.open("ab") as handle:
        for fields in forged:
            seq += 1
            line, prev = encode_event({"seq": seq, **fields}, prev)
            handle.write(line)
    trusted = run_evidence(ws.audit, "staging", central=_record(ws)).trusted()
    assert [(r.image, r.verified) for r in trusted] == [("hvb:1.8.0", True), ("hvb:9.9.9", False)]
