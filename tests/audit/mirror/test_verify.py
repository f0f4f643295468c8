"""``opsctl audit verify --remote``: what a local chain alone cannot see, and signed checkpoints."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import tests.support.team as team_support
from opsctl.audit.log import AuditLog
from opsctl.audit.mirror.checkpoint import Checkpoint
from opsctl.audit.mirror.signing import make_signer
from opsctl.cli.app import app
from opsctl.cli.application import Application
from opsctl.config import S3Audit
from opsctl.errors import BadInput
from tests.support import moto_server as aws_support
from tests.support.team import BUCKET, Team, deploy, engineer

moto_server = aws_support.moto_server
aws = aws_support.aws
atomic_dynamodb = team_support.atomic_dynamodb
team = team_support.team

KEY_ENV = "OPSCTL_TEST_AUDIT_KEY"


def _pem_key() -> tuple[str, str]:
    """A fresh Ed25519 key: (private PEM, public key as base64 of its raw bytes)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return pem, base64.b64encode(raw).decode()


def _verify(project: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app,
        ["--config", str(project / "opsctl.yaml"), "audit", "verify", *extra],
        obj=Application(actor="auditor@example.com"),
        env={"COLUMNS": "250"},
    )
    return result.exit_code, result.stdout, result.stderr


def _two_deploys(team: Team, project: Path, **s3: Any) -> None:
    ws = engineer(project, team.config(**s3), "alice@example.com")
    deploy(ws)
    deploy(ws)


def _log(project: Path) -> Path:
    return project / ".opsctl" / "audit.jsonl"


def _edit_object(team: Team, key: str, change: Any) -> None:
    s3 = team.s3()
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    s3.put_object(Bucket=BUCKET, Key=key, Body=change(body))


def test_an_intact_trail_verifies(team: Team, tmp_path: Path) -> None:
    _two_deploys(team, tmp_path)
    code, out, err = _verify(tmp_path, "--remote")
    assert (code, err) == (0, "")
    assert "central audit trail consistent: 2 run objects from 1 logs, 8 events, 2 checkpoints (0 signed); " in out
    assert "8 events match, 0 not mirrored yet" in out


def test_a_tail_cut_off_the_local_log_is_found(team: Team, tmp_path: Path) -> None:
    _two_deploys(team, tmp_path)
    lines = _log(tmp_path).read_bytes().splitlines(keepends=True)
    _log(tmp_path).write_bytes(b"".join(lines[:4]))  # the whole second run is gone
    code, out, _ = _verify(tmp_path)
    assert code == 0
    assert "audit log intact: 4 events" in out
    code, out, err = _verify(tmp_path, "--remote")
    assert code == 1
    assert err == (
        "remote: the local log ends at seq 4, but the central copy has events up to seq 8: 4 line(s) "
        "were cut off its tail\n"
    )


def test_a_rewritten_local_log_disagrees_with_the_central_one(team: Team, tmp_path: Path) -> None:
    _two_deploys(team, tmp_path)
    lines = _log(tmp_path).read_bytes().splitlines(keepends=True)
    _log(tmp_path).write_bytes(b"".join(lines[:4]))
    forger = AuditLog(_log(tmp_path))
    for step in ("run", "work", "work", "run", "extra"):  # a valid chain, but another history
        forger.append(
            {
                "run": "r-forged",
                "runbook": "deploy",
                "env": "staging",
                "actor": "alice@example.com",
                "step": step,
                "status": "passed",
            }
        )
    assert _verify(tmp_path)[0] == 0
    code, _, err = _verify(tmp_path, "--remote")
    assert code == 1
    assert err.startswith("remote: the local log disagrees with the central copy at 4 line(s), first at seq 5 (local ")
    result = CliRunner().invoke(
        app,
        ["--config", str(tmp_path / "opsctl.yaml"), "--json", "audit", "verify", "--remote"],
        obj=Application(actor="auditor@example.com"),
    )
    report = json.loads(result.stdout)
    assert (report["ok"], report["remote"]["ok"], report["remote"]["matched"]) == (False, False, 4)


def test_an_edited_central_object_is_found(team: Team, tmp_path: Path) -> None:
    _two_deploys(team, tmp_path)
    key = team.object_keys("runs/")[0]
    _edit_object(team, key, lambda body: body.replace(b'"actor":"alice@example.com"', b'"actor":"bob@example.com"', 1))
    code, _, err = _verify(tmp_path, "--remote")
    assert code == 1
    assert err.splitlines()[0] == f"remote: {key} line 1: content does not match its hash (the central copy was edited)"


def test_removed_central_checkpoints_are_found(team: Team, tmp_path: Path) -> None:
    ws = engineer(tmp_path, team.config(), "alice@example.com")
    for _ in range(3):
        deploy(ws)
    _first, middle, last = team.object_keys("checkpoints/")
    team.s3().delete_object(Bucket=BUCKET, Key=middle)
    code, _, err = _verify(tmp_path, "--remote")
    assert code == 1
    assert err == f"remote: {last}: does not follow the checkpoint before it (one was removed or replaced)\n"
    team.s3().delete_object(Bucket=BUCKET, Key=last)
    code, _, err = _verify(tmp_path, "--remote")
    assert err == (
        f"remote: {last}: this host wrote it, but it is gone from the bucket (central checkpoints were removed)\n"
    )


def test_ed25519_signatures_verify_and_a_bad_one_is_found(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pem, public = _pem_key()
    monkeypatch.setenv(KEY_ENV, pem)
    _two_deploys(team, tmp_path, signing_key_env=KEY_ENV)
    _first, second = team.object_keys("checkpoints/")
    checkpoint = Checkpoint.parse(team.s3().get_object(Bucket=BUCKET, Key=second)["Body"].read())
    assert checkpoint.sig is not None
    assert checkpoint.sig["alg"] == "ed25519"
    assert checkpoint.sig["key"].startswith("ed25519:")
    code, out, _ = _verify(tmp_path, "--remote")
    assert code == 0
    assert "2 checkpoints (2 signed)" in out
    # Someone with write access to the bucket moves the pin (and the head with it): the signature no longer fits.
    _edit_object(team, second, lambda body: body.replace(b'"last_seq":8', b'"last_seq":7'))
    code, _, err = _verify(tmp_path, "--remote")
    assert code == 1
    assert f"remote: {second}: names log " in err  # its key and its body disagree
    _edit_object(
        team, second, lambda body: body.replace(b'"last_seq":7', b'"last_seq":8').replace(b'"host":"', b'"host":"x')
    )
    code, _, err = _verify(tmp_path, "--remote")
    assert err.splitlines() == [
        f"remote: {second}: bad signature (the checkpoint was altered, or signed by someone else)"
    ]
    # An auditor without the private key verifies with the public half only.
    monkeypatch.delenv(KEY_ENV)
    config = team.config(signing_key_env=KEY_ENV, public_key=public)
    (tmp_path / "opsctl.yaml").write_text(json.dumps(config))
    code, _, err = _verify(tmp_path, "--remote")
    assert code == 1
    assert "bad signature" in err


def test_a_checkpoint_signed_by_another_key_is_refused(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, _ = _pem_key()
    theirs, _ = _pem_key()
    monkeypatch.setenv(KEY_ENV, theirs)
    _two_deploys(team, tmp_path, signing_key_env=KEY_ENV)
    monkeypatch.setenv(KEY_ENV, mine)
    code, _, err = _verify(tmp_path, "--remote")
    assert code == 1
    assert "signed by another key (ed25519 ed25519:" in err


def test_kms_signed_checkpoints_verify_and_tampering_is_found(team: Team, tmp_path: Path) -> None:
    kms = team.server.client("kms")
    key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]
    _two_deploys(team, tmp_path, kms_key_id=key_id)
    first, second = team.object_keys("checkpoints/")
    checkpoint = Checkpoint.parse(team.s3().get_object(Bucket=BUCKET, Key=first)["Body"].read())
    assert checkpoint.sig is not None
    assert checkpoint.sig["alg"] == "kms:ECDSA_SHA_256"
    assert checkpoint.sig["key"].endswith(key_id)
    code, out, _ = _verify(tmp_path, "--remote")
    assert code == 0
    assert "2 checkpoints (2 signed)" in out
    _edit_object(team, first, lambda body: body.replace(b'"actor":"alice@example.com"', b'"actor":"bob@example.com"'))
    code, _, err = _verify(tmp_path, "--remote")
    assert code == 1
    assert f"remote: {first}: bad signature" in err
    assert f"remote: {second}: does not follow the checkpoint before it" in err


def test_unsigned_checkpoints_after_signed_ones_are_found(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pem, _ = _pem_key()
    monkeypatch.setenv(KEY_ENV, pem)
    _two_deploys(team, tmp_path, signing_key_env=KEY_ENV)
    second = team.object_keys("checkpoints/")[1]

    def strip(body: bytes) -> bytes:
        data = json.loads(body)
        del data["sig"]
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    _edit_object(team, second, strip)
    code, _, err = _verify(tmp_path, "--remote")
    assert code == 1
    assert err == f"remote: {second}: unsigned although earlier checkpoints of this log are signed\n"


def test_signing_keys_never_reach_the_log_the_bucket_or_errors(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pem, _ = _pem_key()
    secret = pem.splitlines()[1]
    monkeypatch.setenv(KEY_ENV, pem)
    _two_deploys(team, tmp_path, signing_key_env=KEY_ENV)
    assert secret not in _log(tmp_path).read_text()
    for key in team.object_keys():
        assert secret.encode() not in team.s3().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    monkeypatch.setenv(KEY_ENV, "not a key " + secret)
    with pytest.raises(BadInput) as bad:
        make_signer(S3Audit(bucket=BUCKET, signing_key_env=KEY_ENV))
    assert str(bad.value) == f"{KEY_ENV} does not hold an Ed25519 private key (PEM, or base64 of its 32 bytes)"


def test_a_missing_signing_key_keeps_runs_queued_with_the_reason(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    ws = engineer(tmp_path, team.config(signing_key_env=KEY_ENV), "alice@example.com")
    assert deploy(ws).status == "succeeded"
    result = CliRunner().invoke(
        app,
        ["--config", str(tmp_path / "opsctl.yaml"), "status", "staging"],
        obj=Application(actor="alice@example.com"),
        env={"COLUMNS": "250"},
    )
    assert "audit mirror: 1 run behind (queued since " in result.stdout
    reason = f"): audit.s3.signing_key_env names {KEY_ENV}, which is not set; set it or remove the key"
    assert reason in result.stdout


def test_without_cryptography_signing_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    pem, _ = _pem_key()
    monkeypatch.setenv(KEY_ENV, pem)
    monkeypatch.setitem(sys.modules, "cryptography", None)  # import fails as if it were not installed
    with pytest.raises(BadInput) as missing:
        make_signer(S3Audit(bucket=BUCKET, signing_key_env=KEY_ENV))
    assert str(missing.value) == (
        "signing or verifying audit checkpoints needs cryptography: pip install 'opsctl[signing]'"
    )


def test_both_key_kinds_at_once_is_a_config_error() -> None:
    with pytest.raises(BadInput) as both:
        make_signer(S3Audit(bucket=BUCKET, signing_key_env=KEY_ENV, kms_key_id="alias/x"))
    assert str(both.value) == "audit.s3: set signing_key_env or kms_key_id, not both"
