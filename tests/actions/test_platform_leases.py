"""Lease events in the audit log, and the leases a later run of the environment may adopt from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsctl.actions.platform_leases import LEASE_STEP, journaled_leases, lease_journal
from opsctl.engine.context import RunContext
from tests.support.context import make_ctx


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunContext:
    monkeypatch.setenv("FLY_API_TOKEN", "fo1_not-a-real-token-5b1e")
    return make_ctx(tmp_path, env="production", runbook="deploy")


def test_each_lease_report_is_one_event_with_machine_and_nonce_never_the_token(ctx: RunContext) -> None:
    lease_journal(ctx)("acquired", "m1", "nonce-1")

    lines = ctx.journal.log.path.read_text().splitlines()
    event = json.loads(lines[-1])
    assert {k: event[k] for k in ("run", "runbook", "env", "step", "status", "target", "machine", "nonce")} == {
        "run": ctx.run_id,
        "runbook": "deploy",
        "env": "production",
        "step": LEASE_STEP,
        "status": "acquired",
        "target": ctx.platform().describe(),
        "machine": "m1",
        "nonce": "nonce-1",
    }
    assert "fo1_not-a-real-token-5b1e" not in "".join(lines)


def test_leases_never_given_back_are_the_ones_to_adopt(ctx: RunContext) -> None:
    record = lease_journal(ctx)
    record("acquired", "m1", "n1")
    record("acquired", "m2", "n2")
    record("acquired", "m3", "n3")
    record("released", "m1", "n1")
    record("adopted", "m2", "n2")  # a resumed run took m2 over
    record("lost", "m3", "n3")  # ... and found m3 leased by someone else
    record("acquired", "m3", "n3b")
    record("released", "m3", "n3")  # a stale nonce gives back nothing that is held now
    record("acquired", "m4", "n4")
    record("expired", "m4", "n4")

    assert journaled_leases(ctx) == {"m2": "n2", "m3": "n3b"}


def test_only_this_environment_and_platform_target_count(ctx: RunContext) -> None:
    target = ctx.platform().describe()
    ctx.journal.event(LEASE_STEP, "acquired", target=target, machine="m1", nonce="ours")
    ctx.journal.event(LEASE_STEP, "acquired", target="fly app hvb (https://elsewhere.example)", machine="m2", nonce="x")
    other_env = ctx.journal.log  # the same log, another environment's run
    other_env.append(
        {"run": "r-other", "runbook": "deploy", "env": "staging", "actor": "a", "step": LEASE_STEP}
        | {"status": "acquired", "target": target, "machine": "m3", "nonce": "theirs"}
    )

    assert journaled_leases(ctx) == {"m1": "ours"}


def test_no_log_yet_means_nothing_to_adopt(ctx: RunContext) -> None:
    assert not ctx.journal.log.path.exists()
    assert journaled_leases(ctx) == {}
