"""Issue 13, item 17: two forged audit lines made production's ``promoted_from: staging`` gate pass.

Anyone who can write the audit log can append events with recomputed chain
hashes. With ``audit.hmac_key_env`` every event carries an HMAC that only the
key's holder can make, and the reads that grant permission count only keyed
events; without it the chain is tamper-evident against accidental and naive
edits only (README, "Audit log"), which the last test pins down.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from opsctl.audit.line import encode_event
from tests.e2e.policy.support import MINIMAL_PRE_DEPLOY, Project, error_line, output, step_events

KEY_ENV = "HVB_AUDIT_KEY"
FORGED_RUN = "r20261127-120000-f0f0f0"
FORGED_IMAGE = "hvb:9.9.9"
REFUSED = (
    f"the verification record of run {FORGED_RUN} in staging has no valid HMAC (audit.hmac_key_env); "
    "refusing to count it"
)


def forge_staging_verification(project: Project) -> None:
    """Append what the issue's reproduction appended: a staging deploy of hvb:9.9.9, started and verified."""
    last = json.loads(project.audit_path.read_bytes().splitlines()[-1])
    base = {"run": FORGED_RUN, "runbook": "deploy", "env": "staging", "actor": "ci@example.com"}
    release = {"id": "hvb-staging:99", "image": FORGED_IMAGE}
    forged: list[dict[str, Any]] = [
        {**base, "change_type": "normal", "step": "run", "status": "started", "params": {"image": FORGED_IMAGE}},
        {**base, "change_type": "normal", "step": "run", "status": "succeeded", "release_after": release},
    ]
    forged[1]["verified"] = True
    prev, seq = last["hash"], last["seq"]
    with project.audit_path.open("ab") as handle:
        for fields in forged:
            seq += 1
            line, prev = encode_event({"seq": seq, "ts": last["ts"], **fields}, prev)
            handle.write(line)


@pytest.fixture
def keyed(project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv(KEY_ENV, "a key only the CI runners hold")
    project.configure(production={"requires": {"promoted_from": "staging"}}, audit={"hmac_key_env": KEY_ENV})
    return project


def test_with_a_key_the_forged_verification_does_not_promote(keyed: Project) -> None:
    assert keyed.deploy("staging", "hvb:1.8.0").exit_code == 0
    staging_run = keyed.last_run()
    # A keyed verification promotes as before.
    promoted = keyed.deploy("production", "hvb:1.8.0")
    assert promoted.exit_code == 0, output(promoted)
    (passed,) = step_events(keyed.events(keyed.last_run()), "policy.promotion")
    assert passed["summary"].startswith(f"hvb:1.8.0 was verified on staging (run {staging_run}, ")
    assert all("hmac" in e for e in keyed.events())
    forged_line = len(keyed.events()) + 1
    forge_staging_verification(keyed)
    keyed.write("checklists/pre-deploy.yaml", MINIMAL_PRE_DEPLOY)  # only the engine's policy stands in the way

    # The start-up check resumes from the position the last run verified, so the chain is checked
    # from there and the forged lines reach the gate (a full `audit verify` names them, below).
    result = keyed.deploy("production", FORGED_IMAGE, confirms=())

    assert result.exit_code == 1, output(result)
    assert error_line(result) == f"error: {REFUSED}"
    assert keyed.image("production") == "hvb:1.8.0"
    verify = keyed.invoke("audit", "verify")
    assert verify.exit_code == 1, output(verify)
    assert verify.stderr.strip().endswith(
        f"line {forged_line}: no HMAC, though the events from line 1 on carry one: "
        "appended without the audit.hmac_key_env key (a forged line?)"
    )


def test_with_a_key_the_migrations_gate_refuses_the_forged_verification(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "a key only the CI runners hold")
    project.configure(audit={"hmac_key_env": KEY_ENV})  # no promotion policy: the checklist's gate decides
    gate = (
        MINIMAL_PRE_DEPLOY
        + "  - {id: migrations, title: Migrations tested, uses: audit.verified_in, with: {env: staging}}\n"
    )
    project.write("checklists/pre-deploy.yaml", gate)
    assert project.deploy("staging", "hvb:1.8.0", confirms=()).exit_code == 0
    # A second run, so that the start-up check has a verified position to resume from (see the test above).
    assert project.deploy("staging", "hvb:1.8.0", "--dry-run", confirms=()).exit_code == 0
    forge_staging_verification(project)

    result = project.deploy("production", FORGED_IMAGE, confirms=())

    assert result.exit_code == 1, output(result)
    assert project.image("production") == "hvb:1.7.0"
    run = project.last_run()
    (item,) = [e for e in step_events(project.events(run), "pre-deploy/migrations") if e["status"] != "started"]
    assert (item["status"], item["summary"]) == ("failed", REFUSED)


def test_without_a_key_the_forgery_passes_the_gate_as_the_readme_warns(project: Project) -> None:
    project.configure(production={"requires": {"promoted_from": "staging"}})
    assert project.deploy("staging", "hvb:1.8.0").exit_code == 0
    forge_staging_verification(project)
    project.write("checklists/pre-deploy.yaml", MINIMAL_PRE_DEPLOY)

    result = project.deploy("production", FORGED_IMAGE, "--dry-run", confirms=())

    assert result.exit_code == 0, output(result)
    assert project.invoke("audit", "verify").exit_code == 0  # the recomputed chain verifies
    (passed,) = step_events(project.events(project.last_run()), "policy.promotion")
    assert passed["summary"].startswith(f"{FORGED_IMAGE} was verified on staging (run {FORGED_RUN}, ")


def test_with_a_key_a_full_start_up_check_refuses_any_run_on_a_forged_log(keyed: Project) -> None:
    assert keyed.deploy("staging", "hvb:1.8.0").exit_code == 0
    forged_line = len(keyed.events()) + 1
    forge_staging_verification(keyed)  # the next run's start-up check has no earlier position: it reads it all

    result = keyed.deploy("production", FORGED_IMAGE)

    assert result.exit_code == 2, output(result)
    assert (
        f"line {forged_line}: no HMAC, though the events from line 1 on carry one: "
        "appended without the audit.hmac_key_env key (a forged line?)" in error_line(result)
    )
    assert keyed.image("production") == "hvb:1.7.0"
