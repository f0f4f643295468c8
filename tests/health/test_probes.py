"""health.* against a real bot on 127.0.0.1: the healthy case and every fault, with exact messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from opsctl.engine.actions import get_action
from opsctl.engine.outcome import Outcome, Status
from opsctl.health import probes
from opsctl.health.params import DependenciesParams, LiveParams, SyntheticParams, VersionParams
from opsctl.sandbox.bot import BotServer
from tests.health import helpers
from tests.health.helpers import Timer, ctx_for, with_platform

bot = helpers.bot

# The client retries 502/503 twice with 0.25 s + 0.5 s pauses; every fault
# must end within its timeout plus this margin (a correctness bound, not a benchmark).
MARGIN = 2.0


def live(tmp_path: Path, url: str, **health: Any) -> Outcome:
    return get_action("health.live").fn(ctx_for(tmp_path, url, **health), LiveParams())


def test_healthy_bot_passes_every_probe(tmp_path: Path, bot: BotServer) -> None:
    ctx = with_platform(
        ctx_for(
            tmp_path,
            bot.url,
            synthetic={"path": "/api/messages", "json": {"text": "hi"}, "expect": {"intent": "greeting"}},
        ),
        "hvb:1.8.0",
    )
    outcome = probes.live(ctx, LiveParams())
    assert outcome.status is Status.PASSED
    assert re.fullmatch(rf"{bot.url}/health answered status ok in \d+ms, version 1\.8\.0", outcome.summary)
    assert probes.version(ctx, VersionParams()).summary == "3 of 3 probes served 1.8.0"
    assert probes.dependencies(ctx, DependenciesParams()).summary == "database, openai, whatsapp ok"
    synthetic = probes.synthetic(ctx, SyntheticParams())
    assert synthetic.status is Status.PASSED
    assert re.fullmatch(rf"POST {bot.url}/api/messages answered HTTP 200 in \d+ms", synthetic.summary)


def test_timeout_fails_within_the_timeout(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(hang=10)
    with Timer() as t:
        outcome = live(tmp_path, bot.url, timeout="500ms")
    assert outcome.status is Status.FAILED
    assert outcome.summary == f"no answer from {bot.url}/health within the timeout (500ms)"
    assert t.elapsed < 0.5 + MARGIN


def test_connection_refused(tmp_path: Path, bot: BotServer) -> None:
    bot.stop_listening()
    with Timer() as t:
        outcome = live(tmp_path, bot.url)
    assert outcome.summary == f"cannot connect to {bot.url}/health: connection refused"
    assert outcome.status is Status.FAILED
    assert t.elapsed < 2 + MARGIN


def test_500_is_not_retried(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(status=500)
    with Timer() as t:
        outcome = live(tmp_path, bot.url)
    assert (outcome.status, outcome.summary) == (Status.FAILED, f"GET {bot.url}/health answered HTTP 500")
    assert t.elapsed < MARGIN
    assert bot.hits["/health"] == 1


def test_502_and_503_are_retried_then_fail(tmp_path: Path, bot: BotServer) -> None:
    for status in (502, 503):
        bot.reset()
        bot.hits.clear()
        bot.configure(status=status)
        with Timer() as t:
            outcome = live(tmp_path, bot.url)
        assert outcome.status is Status.FAILED
        assert outcome.summary == f"GET {bot.url}/health answered HTTP {status} after 3 attempts"
        assert bot.hits["/health"] == 3
        assert t.elapsed < 2 * 3 + MARGIN


def test_429_with_a_short_retry_after_is_waited_for(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(rate_limit=1, retry_after=0.3)
    with Timer() as t:
        outcome = live(tmp_path, bot.url)
    assert outcome.status is Status.PASSED
    assert re.fullmatch(
        rf"{bot.url}/health answered status ok in \d+ms after 2 attempts, version 1\.8\.0", outcome.summary
    )
    assert 0.3 <= t.elapsed < 0.3 + MARGIN


def test_429_with_a_retry_after_beyond_the_budget_fails_at_once(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(rate_limit=5, retry_after=120)
    with Timer() as t:
        outcome = live(tmp_path, bot.url)
    assert outcome.status is Status.FAILED
    assert outcome.summary == f"GET {bot.url}/health answered HTTP 429 (Retry-After 2m00s would exceed the time budget)"
    assert t.elapsed < MARGIN


def test_non_json_body(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(non_json=True)
    with Timer() as t:
        outcome = live(tmp_path, bot.url)
    assert t.elapsed < MARGIN
    assert outcome.status is Status.FAILED
    assert outcome.summary == (
        f"{bot.url}/health answered HTTP 200 but not JSON: '<html><body><h1>It works!</h1></body></h'"
    )


def test_missing_fields(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(missing_fields={"status"})
    with Timer() as t:
        assert live(tmp_path, bot.url).summary == f"{bot.url}/health: field status is missing from the response"
    assert t.elapsed < MARGIN
    bot.configure(missing_fields={"version"})
    outcome = probes.version(ctx_for(tmp_path, bot.url), VersionParams(version="1.8.0"))
    assert outcome.status is Status.FAILED
    assert outcome.summary == (
        f"3 of 3 probes failed: {bot.url}/health: field version is missing from the response (expected 1.8.0)"
    )


def test_flapping_bot_fails_one_probe_in_three(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(flap_every=3)
    with Timer() as t:
        outcome = probes.version(ctx_for(tmp_path, bot.url), VersionParams(version="1.8.0", probes=3))
    assert t.elapsed < MARGIN
    assert outcome.status is Status.FAILED
    assert outcome.summary == f"1 of 3 probes failed: GET {bot.url}/health answered HTTP 500 (expected 1.8.0)"


def test_redirect_to_another_host_is_refused_and_named(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(redirect_to="http://elsewhere.example:8443")
    with Timer() as t:
        outcome = live(tmp_path, bot.url)
    assert t.elapsed < MARGIN
    assert outcome.status is Status.FAILED
    assert outcome.summary == (
        f"{bot.url}/health redirected to another host (http://elsewhere.example:8443); not followed"
    )


def test_old_version_still_served(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(version=["1.7.0", "1.8.0", "1.7.0"])
    ctx = ctx_for(tmp_path, bot.url)
    ctx.state.release = {"id": "hvb-staging:8", "image": "registry.example.com/hvb:1.8.0"}
    outcome = get_action("health.version").fn(ctx, VersionParams())
    assert outcome.status is Status.FAILED
    assert outcome.summary == "2 of 3 probes served 1.7.0, expected 1.8.0"
    assert outcome.detail["served"] == {"1.7.0": 2, "1.8.0": 1}


def test_expected_version_comes_from_with_then_state_then_platform(tmp_path: Path, bot: BotServer) -> None:
    ctx = with_platform(ctx_for(tmp_path, bot.url), "hvb:1.7.0")
    assert probes.expected_version(ctx, "2.0.0") == "2.0.0"
    assert probes.expected_version(ctx, None) == "1.7.0"
    ctx.state.release = {"id": "x", "image": "hvb:1.9.0"}
    assert probes.expected_version(ctx, None) == "1.9.0"
    outcome = probes.version(ctx, VersionParams(probes=2))
    assert outcome.summary == "2 of 2 probes served 1.8.0, expected 1.9.0"


def test_bad_image_tag_is_unhealthy(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(version="1.9.0-bad")
    outcome = live(tmp_path, bot.url, timeout="1s")
    assert outcome.summary == f"GET {bot.url}/health answered HTTP 503 after 3 attempts"


def test_one_dependency_down_is_named(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(dependencies={"openai": "down"})
    outcome = probes.dependencies(ctx_for(tmp_path, bot.url), DependenciesParams())
    assert (outcome.status, outcome.summary) == (Status.FAILED, "dependency openai is down")
    assert outcome.detail["value"] == "database ok, openai down, whatsapp ok"


def test_degraded_warns_or_fails_as_configured(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(dependencies={"whatsapp": "degraded"})
    ctx = ctx_for(tmp_path, bot.url)
    warned = probes.dependencies(ctx, DependenciesParams())
    assert (warned.status, warned.summary) == (Status.WARNED, "dependency whatsapp is degraded (database, openai ok)")
    failed = probes.dependencies(ctx, DependenciesParams(degraded="fail"))
    assert (failed.status, failed.summary) == (Status.FAILED, "dependency whatsapp is degraded")


def test_missing_dependency_fails_and_required_set_is_configurable(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(dependencies={"whatsapp": None})
    ctx = ctx_for(tmp_path, bot.url)
    outcome = probes.dependencies(ctx, DependenciesParams())
    assert outcome.summary == "dependency whatsapp is missing from the answer"
    only_core = probes.dependencies(ctx, DependenciesParams(required=["database", "openai"]))
    assert (only_core.status, only_core.summary) == (Status.PASSED, "database, openai ok")
    from_config = probes.dependencies(
        ctx_for(tmp_path, bot.url, required_dependencies=["database"]), DependenciesParams()
    )
    assert from_config.summary == "database ok"


def test_synthetic_request_failures(tmp_path: Path, bot: BotServer) -> None:
    ctx = ctx_for(
        tmp_path,
        bot.url,
        synthetic={"path": "/api/messages", "json": {"text": "book a room"}, "expect": {"intent": "booking"}},
    )
    assert probes.synthetic(ctx, SyntheticParams()).status is Status.PASSED
    wrong = probes.synthetic(ctx, SyntheticParams(expect={"intent": "greeting"}))
    assert wrong.summary == f"POST {bot.url}/api/messages: field intent: expected 'greeting', got 'booking'"
    bot.configure(dependencies={"openai": "down"})
    down = probes.synthetic(ctx, SyntheticParams())
    assert down.summary == f"POST {bot.url}/api/messages answered HTTP 503, expected 200"
    assert bot.hits["/api/messages"] == 3  # a POST is never re-sent


def test_synthetic_without_a_configured_request_warns(tmp_path: Path, bot: BotServer) -> None:
    outcome = probes.synthetic(ctx_for(tmp_path, bot.url), SyntheticParams())
    assert outcome.status is Status.WARNED
    assert outcome.summary == (
        "not verified: no synthetic request is configured; set environments.staging.health.synthetic "
        "in opsctl.yaml or pass with: path"
    )
