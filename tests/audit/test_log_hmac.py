"""The keyed audit log (``audit.hmac_key_env``): every event carries an HMAC; verify and the evidence reads check it.

The chain alone is tamper-evident against accidental and naive edits: anyone
who can write the file can append an event with recomputed hashes. These
tests forge such lines and show what the key adds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.audit.evidence import refusal, run_evidence
from opsctl.audit.keyed import AuditKey
from opsctl.audit.line import chain_line, encode_event, keyed_line, line_keyed
from opsctl.audit.log import AuditLog
from opsctl.errors import ConfigError
from opsctl.values.redact import Redactor
from opsctl.workspace import Workspace
from tests.support.audit import event, lines_of
from tests.support.context import base_config

KEY_ENV = "HVB_AUDIT_KEY"
SECRET = "k3y-that-only-ci-holds"
UNSET = (
    "audit.hmac_key_env names HVB_AUDIT_KEY, which is not set: opsctl keys every audit event with its value; "
    "set HVB_AUDIT_KEY (or remove audit.hmac_key_env from opsctl.yaml)"
)
NO_HMAC = (
    "no HMAC, though the events from line 1 on carry one: appended without the audit.hmac_key_env key (a forged line?)"
)
MISMATCH = "HMAC does not match: a forged or edited line, or one keyed with another audit.hmac_key_env key"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "audit.jsonl"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)


def keyed_log(path: Path, count: int = 0) -> AuditLog:
    log = AuditLog(path, key=AuditKey(KEY_ENV))
    for n in range(1, count + 1):
        log.append(event(n))
    return log


def forge(path: Path, fields: dict[str, Any]) -> None:
    """Append a line the way a person with write access and no key can: valid JSON, a recomputed chain."""
    last = json.loads(lines_of(path)[-1])
    line, _ = encode_event({"seq": last["seq"] + 1, "ts": last["ts"], **fields}, last["hash"])
    with path.open("ab") as handle:
        handle.write(line)


# --- writing ------------------------------------------------------------------------------------------


def test_every_event_carries_an_hmac_over_the_bytes_the_chain_hashes(path: Path) -> None:
    log = keyed_log(path)
    first = log.append(event(1))
    second = log.append(event(2, detail={"n": 1}))

    raw = lines_of(path)[1].rstrip(b"\n")
    assert list(json.loads(raw))[-3:] == ["hmac", "prev", "hash"]
    assert [json.loads(line) for line in lines_of(path)] == [first, second]
    # The HMAC signs the line without its hmac and hash fields: what the chain hashes for an unkeyed event.
    fields = {k: v for k, v in second.items() if k not in ("hmac", "prev", "hash")}
    unkeyed, unkeyed_hash = encode_event(fields, first["hash"])
    signed = unkeyed[: unkeyed.rindex(b',"hash":"')] + b"}"
    assert hashlib.sha256(signed).hexdigest() == unkeyed_hash
    assert second["hmac"] == hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert keyed_line(raw) == (second["hmac"], signed)
    # The chain still covers the whole line, hmac included, and the mirror reads it as before.
    assert encode_event(fields, first["hash"], SECRET.encode()) == (raw + b"\n", second["hash"])
    chained = chain_line(raw)
    assert chained is not None
    assert (chained.seq, chained.prev, chained.hash, chained.intact) == (2, first["hash"], second["hash"], True)


def test_the_key_never_reaches_the_log_and_a_given_hmac_field_is_ignored(path: Path) -> None:
    log = AuditLog(path, Redactor.from_env([KEY_ENV]), key=AuditKey(KEY_ENV))

    written = log.append(event(1, hmac="0" * 64, summary=f"the key is {SECRET}"))

    assert SECRET.encode() not in path.read_bytes()
    assert written["summary"] == "the key is ***"
    assert written["hmac"] != "0" * 64
    assert line_keyed(lines_of(path)[0].rstrip(b"\n"), SECRET.encode())


def test_listeners_hear_the_event_with_its_hmac(path: Path) -> None:
    heard: list[dict[str, Any]] = []
    log = AuditLog(path, listeners=[heard.append], key=AuditKey(KEY_ENV))

    log.append(event(1))

    assert heard == [json.loads(lines_of(path)[0])]
    assert "hmac" in heard[0]


def test_without_the_variable_nothing_is_written(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keyed_log(path, 1)
    before = path.read_bytes()
    monkeypatch.delenv(KEY_ENV)

    with pytest.raises(ConfigError) as raised:
        keyed_log(path).append(event(2))

    assert str(raised.value) == UNSET
    assert path.read_bytes() == before
    with pytest.raises(ConfigError) as raised:
        keyed_log(path).verify()
    assert str(raised.value) == UNSET


def test_a_recovery_event_is_keyed_too(path: Path) -> None:
    log = keyed_log(path, 2)
    with path.open("ab") as handle:
        handle.write(b'{"seq":3,"ts":"torn')

    log.append(event(4))

    recovered = json.loads(lines_of(path)[-2])
    assert recovered["step"] == "audit.recover"
    assert "hmac" in recovered
    result = log.verify()
    assert (result.ok, result.events, result.keyed) == (True, 4, 4), result.message  # the torn line is no event


# --- verifying ----------------------------------------------------------------------------------------


def test_verify_checks_every_hmac_and_says_how_many(path: Path) -> None:
    result = keyed_log(path, 4).verify()

    assert (result.ok, result.events, result.keyed) == (True, 4, 4)
    assert result.message == f"audit log intact: 4 events, head {result.head[:12]}; 4 with a valid HMAC"


def test_a_forged_line_passes_the_chain_but_not_the_key(path: Path) -> None:
    keyed_log(path, 2)
    forge(path, event(3, status="succeeded"))

    chain_only = AuditLog(path).verify()
    assert (chain_only.ok, chain_only.keyed) == (True, None)  # the README's caveat: the chain alone cannot tell
    result = keyed_log(path).verify()
    assert (result.ok, result.bad_line, result.reason) == (False, 3, NO_HMAC)
    assert result.message == f"line 3: {NO_HMAC}"


def test_a_forged_hmac_or_another_key_does_not_match(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keyed_log(path, 2)
    forge(path, {**event(3), "hmac": "ab" * 32})

    assert (keyed_log(path).verify().bad_line, keyed_log(path).verify().reason) == (3, MISMATCH)
    monkeypatch.setenv(KEY_ENV, "another key")
    result = keyed_log(path).verify()
    assert (result.ok, result.bad_line, result.reason) == (False, 1, MISMATCH)


def test_an_edited_hmac_breaks_the_chain_first(path: Path) -> None:
    keyed_log(path, 2)
    lines = lines_of(path)
    mac = json.loads(lines[0])["hmac"]
    path.write_bytes(lines[0].replace(mac.encode(), b"f" * 64) + lines[1])

    result = keyed_log(path).verify()

    assert (result.ok, result.bad_line, result.reason) == (
        False,
        1,
        "content does not match its hash (the line was edited)",
    )


def test_events_from_before_the_key_was_configured_are_accepted(path: Path) -> None:
    plain = AuditLog(path)
    plain.append(event(1))
    plain.append(event(2))
    keyed_log(path, 1)

    result = keyed_log(path).verify()

    assert (result.ok, result.events, result.keyed) == (True, 3, 1)


def test_the_start_up_check_from_a_known_position_leaves_the_keys_to_audit_verify(path: Path) -> None:
    log = keyed_log(path, 2)
    reached = log.verify().reached
    forge(path, event(3))

    assert log.verify(reached).ok  # the chain from there is intact; `opsctl audit verify` reads it all
    assert not log.verify().ok


# --- evidence: what reads that grant permission count ---------------------------------------------------

RUN = "r20261127-100000-aaaaaa"
FORGED = "r20261127-110000-ffffff"


def run_events(run: str, image: str, status: str = "succeeded") -> list[dict[str, Any]]:
    base = {"run": run, "runbook": "deploy", "env": "staging", "actor": "ci@example.com", "step": "run"}
    release = {"id": f"td:{image}", "image": image}
    return [
        {**base, "status": "started", "params": {"image": image}, "dry_run": False},
        {**base, "status": status, "release_after": release, "verified": status == "succeeded"},
    ]


def test_a_forged_verification_does_not_count_with_a_key(path: Path) -> None:
    log = keyed_log(path)
    for fields in run_events(RUN, "hvb:1.8.0"):
        log.append(fields)
    for fields in run_events(FORGED, "hvb:9.9.9"):
        forge(path, fields)

    evidence = run_evidence(log, "staging")

    assert [(r.run, r.verified) for r in evidence.runs] == [(RUN, True), (FORGED, True)]  # what the log states
    assert evidence.unkeyed == frozenset({FORGED})
    assert [(r.run, r.verified) for r in evidence.trusted()] == [(RUN, True), (FORGED, False)]
    assert refusal(evidence.runs[1]) == (
        f"the verification record of run {FORGED} in staging has no valid HMAC (audit.hmac_key_env); "
        "refusing to count it"
    )
    assert run_evidence(AuditLog(path), "staging").unkeyed == frozenset()  # without a key: the log's word


def test_a_forged_end_of_a_real_failed_run_does_not_count(path: Path) -> None:
    log = keyed_log(path)
    started, failed = run_events(RUN, "hvb:9.9.9", status="failed")
    log.append(started)
    log.append(failed)
    forge(path, run_events(RUN, "hvb:9.9.9")[1])  # a second end, "succeeded, verified", for the same run

    evidence = run_evidence(log, "staging")

    assert [(r.run, r.status, r.verified) for r in evidence.runs] == [(RUN, "succeeded", True)]
    assert evidence.unkeyed == frozenset({RUN})


# --- configuration ----------------------------------------------------------------------------------------


def test_the_workspace_keys_its_log_with_the_configured_variable(tmp_path: Path) -> None:
    config = base_config()
    config["audit"] = {"hmac_key_env": KEY_ENV}
    (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(config))

    ws = Workspace.load(str(tmp_path / "opsctl.yaml"), actor="a@example.com")
    ws.journal("r1", "deploy", "staging").event("run", "started", summary=f"key {SECRET}")

    assert ws.audit.key == AuditKey(KEY_ENV)
    assert KEY_ENV in ws.config.secret_env_names
    (written,) = [json.loads(line) for line in lines_of(ws.audit.path)]
    assert written["summary"] == "key ***"
    assert line_keyed(lines_of(ws.audit.path)[0].rstrip(b"\n"), SECRET.encode())


def test_a_bad_variable_name_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from opsctl.config import load_config

    monkeypatch.chdir(tmp_path)
    config = base_config()
    config["audit"] = {"hmac_key_env": "not a name"}
    (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(config))

    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path / "opsctl.yaml")

    assert str(raised.value) == (
        "opsctl.yaml:2: audit -> hmac_key_env: string should match pattern '^[A-Za-z_][A-Za-z0-9_]*$'"
    )


def test_a_forged_verification_is_no_rollback_target_with_a_key(path: Path) -> None:
    from opsctl.audit.query import last_verified

    log = keyed_log(path)
    for fields in run_events(RUN, "hvb:1.8.0"):
        log.append(fields)
    for fields in run_events(FORGED, "hvb:9.9.9"):
        forge(path, fields)

    chosen = last_verified(run_evidence(log, "staging").trusted(), "staging")
    unkeyed = last_verified(run_evidence(AuditLog(path), "staging").trusted(), "staging")

    assert chosen is not None
    assert (chosen.run, chosen.image) == (RUN, "hvb:1.8.0")
    assert unkeyed is not None
    assert (unkeyed.run, unkeyed.image) == (FORGED, "hvb:9.9.9")  # the chain alone cannot tell
