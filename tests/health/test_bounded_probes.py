"""Health probes against a hostile bot on 127.0.0.1: endless, gzip-bomb and dripping answers, item budgets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsctl.engine.checklist import run_checklist, time_limit
from opsctl.engine.loader import load_checklist, load_runbook
from opsctl.engine.outcome import Status
from opsctl.engine.runbook import run_steps
from opsctl.health.client import HealthClient, ProbeError
from opsctl.health.probes import check_live
from opsctl.health.prometheus import instant_query
from tests.health.helpers import ctx_for
from tests.support.hostile import HostileServer
from tests.support.util import checklist, write_checklist, write_text

SLACK = 1.0  # how far past its limit a probe may end (scheduling, the executor's join slices)


@pytest.fixture
def bot() -> Iterator[HostileServer]:
    with HostileServer(drip=0.2) as server:
        yield server


def live(bot: HostileServer, like: str, timeout: float = 5.0) -> tuple[str, float]:
    bot.misbehave("/health", like)
    started = time.monotonic()
    with HealthClient(bot.base, timeout=timeout) as client:
        outcome = check_live(client, "/health")
    assert outcome.status is Status.FAILED
    return outcome.summary, time.monotonic() - started


@pytest.mark.parametrize("like", ["/endless", "/gzip-bomb", "/huge-length"])
def test_an_oversized_health_answer_fails_the_probe_at_the_cap(bot: HostileServer, like: str) -> None:
    summary, elapsed = live(bot, like)
    assert summary == f"{bot.base}/health: response too large (over 1 MiB)"
    assert elapsed < 3.0


@pytest.mark.parametrize("like", ["/drip", "/drip-headers"])
def test_a_slowloris_health_endpoint_fails_within_the_timeout(bot: HostileServer, like: str) -> None:
    # One byte every 0.2s: per-read timeouts never trip, the 1s wall-clock limit does.
    summary, elapsed = live(bot, like, timeout=1.0)
    assert summary == f"no answer from {bot.base}/health within the timeout (1.0s)"
    assert 1.0 <= elapsed < 1.0 + SLACK


def test_the_cap_is_a_keyword_of_the_client(bot: HostileServer) -> None:
    bot.answer("/health", body={"status": "ok", "pad": "x" * 5000})
    with HealthClient(bot.base, timeout=5.0, max_response_bytes=4096) as client, pytest.raises(ProbeError) as caught:
        client.get("/health")
    assert str(caught.value) == f"{bot.base}/health: response too large (over 4 KiB)"


def test_prometheus_answers_are_bounded_too(bot: HostileServer) -> None:
    bot.misbehave("/api/v1/query", "/gzip-bomb")
    with HealthClient(bot.base, timeout=5.0) as client, pytest.raises(ProbeError) as caught:
        instant_query(client, "up")
    assert str(caught.value) == f"{bot.base}/api/v1/query: response too large (over 1 MiB)"


def test_no_probe_outlives_the_item_that_runs_it(bot: HostileServer) -> None:
    bot.misbehave("/health", "/drip")
    started = time.monotonic()
    with time_limit(1.0), HealthClient(bot.base, timeout=30.0, retries=3) as client:
        outcome = check_live(client, "/health")
    assert outcome.status is Status.FAILED
    assert time.monotonic() - started < 1.0 + SLACK


def test_retries_share_the_items_budget(tmp_path: Path, bot: HostileServer) -> None:
    # Six attempts of 10s each used to take a minute (the built-in checklists: 6 x 15 minutes).
    bot.misbehave("/health", "/drip")
    ctx = ctx_for(tmp_path, bot.base, timeout="10s")
    item = {"id": "live", "title": "Live", "uses": "health.live", "timeout": "1500ms", "retry": {"count": 5}}
    write_checklist(tmp_path, "probe", checklist(item))
    result = run_checklist(ctx, load_checklist("probe", tmp_path))

    (live_item,) = result.items
    assert live_item.duration_s < 1.5 + SLACK
    assert (live_item.status, live_item.attempts) == (Status.FAILED, 1)
    assert live_item.detail["retry_stopped"] == "no time left to retry within 1.5s"


def test_a_checklist_step_of_a_runbook_has_a_time_limit(tmp_path: Path, bot: HostileServer) -> None:
    bot.misbehave("/health", "/drip")
    ctx = ctx_for(tmp_path, bot.base, timeout="10s")
    write_checklist(tmp_path, "probe", checklist({"id": "live", "title": "Live", "uses": "health.live"}))
    write_text(
        tmp_path / "runbooks" / "verify.yaml",
        """
        title: Verify
        steps:
          - {id: verify, title: Verify the bot, checklist: probe, timeout: 1s}
        """,
    )
    outcome = run_steps(ctx, load_runbook("verify", tmp_path))

    assert outcome.failed is not None
    assert outcome.failed.duration_s < 1.0 + SLACK
    assert outcome.failed.summary == "Test gate: failed (live)"
    assert outcome.failed.checklist is not None
    assert outcome.failed.checklist.items[0].summary == f"no answer from {bot.base}/health within the time budget"


def test_a_secret_cut_by_a_probes_excerpt_does_not_leak_in_part(
    tmp_path: Path, bot: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The probe quotes the first 40 characters of a body that is not JSON; the header secret starts at 30.
    secret = "hvb-health-canary-7e6d5c4b3a"
    monkeypatch.setenv("HVB_HEALTH_TOKEN", secret)
    bot.answer("/health", body="y" * 30 + secret + " is not the way to say ok")
    ctx = ctx_for(tmp_path, bot.base, headers_env={"Authorization": "HVB_HEALTH_TOKEN"})
    write_checklist(tmp_path, "probe", checklist({"id": "live", "title": "Live", "uses": "health.live"}))

    result = run_checklist(ctx, load_checklist("probe", tmp_path))

    assert result.items[0].summary == f"{bot.base}/health answered HTTP 200 but not JSON: '{'y' * 30}***'"
    log = (ctx.state_dir / "audit.jsonl").read_text()
    assert secret[:6] not in log
