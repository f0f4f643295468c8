"""The Fly Machines driver, end to end against the fake API on 127.0.0.1, plus respx unit cases."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from opsctl.errors import BadInput, ExitCode, Locked, NeedsHuman
from opsctl.platforms.base import Release, RolloutOptions, RolloutResult, RolloutStatus
from opsctl.platforms.fly import FlyPlatform
from opsctl.platforms.fly_http import FlyAmbiguous, FlyApiError, FlyClient, retry_after_seconds
from opsctl.platforms.fly_leases import LeaseSet
from opsctl.platforms.fly_machine_ops import MachineOps
from opsctl.values.redact import Redactor
from tests.support.fly_api import DEFAULT_IMAGE as OLD
from tests.support.fly_api import TOKEN, FakeFlyApi, fly_api_fixture, fly_env_fixture  # noqa: F401 - registers fly_api, fly_env

NEW = "registry.fly.io/hvb:1.8.0"
BAD = "registry.fly.io/hvb:1.8.0-bad"


class Recorder:
    """Collects events and sleeps, so tests can look at them (and at the token's absence)."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.sleeps: list[float] = []

    def event(self, message: str) -> None:
        self.events.append(message)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


_OPEN: list[FlyPlatform | FlyClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def make(api: FakeFlyApi, rec: Recorder | None = None, **overrides: Any) -> FlyPlatform:
    sleep = rec.sleep if rec else (lambda _s: None)
    platform = FlyPlatform(api.platform_config(**overrides), environ={"FLY_API_TOKEN": api.token}, sleep=sleep)
    _OPEN.append(platform)
    return platform


def opts(rec: Recorder | None = None, **kwargs: Any) -> RolloutOptions:
    kwargs.setdefault("timeout", 10.0)
    return RolloutOptions(poll_interval=0.02, on_event=rec.event if rec else (lambda _m: None), **kwargs)


def sequence(api: FakeFlyApi) -> list[str]:
    """'update m1', 'wait m1', ... in request order (repeated waits collapsed)."""
    out: list[str] = []
    for r in api.requests:
        parts = r.path.split("/")
        if r.method == "POST" and parts[-2] == "machines":
            out.append(f"update {parts[-1]}")
        elif parts[-1] == "wait" and out[-1:] != [f"wait {parts[-2]}"]:
            out.append(f"wait {parts[-2]}")
    return out


def all_on(api: FakeFlyApi, image: str) -> dict[str, str]:
    return dict.fromkeys(("m1", "m2", "m3"), image)


# -- strategies -------------------------------------------------------------------------


def test_rolling_updates_one_machine_at_a_time(fly_api: FakeFlyApi, rec: Recorder) -> None:
    result = make(fly_api).deploy(NEW, opts(rec))

    assert result.status is RolloutStatus.STABLE
    assert result.message == f"3 machine(s) of fly app hvb run {NEW} (rolling, 1 at a time)"
    assert result.release == Release(id=NEW, image=NEW, detail={"machines": ["m1", "m2", "m3"]})
    assert fly_api.images() == all_on(fly_api, NEW)
    assert sequence(fly_api) == ["update m1", "wait m1", "update m2", "wait m2", "update m3", "wait m3"]
    assert result.detail["machines"]["m2"] == {"before": OLD, "after": NEW, "action": "updated"}
    # Only the image (and our history metadata) changed; the nonce went with every update.
    machine = fly_api.machine("m1")
    assert machine["config"]["metadata"]["opsctl_previous_image"] == OLD
    assert machine["config"]["services"] == fly_api.machine("m3")["config"]["services"]
    nonces = {r.headers.get("fly-machine-lease-nonce") for r in fly_api.updates()}
    assert None not in nonces
    assert len(nonces) == 3
    assert fly_api.leases() == {}
    assert len(fly_api.calls("DELETE", "/lease")) == 3


def test_rolling_honours_max_unavailable(fly_api: FakeFlyApi) -> None:
    result = make(fly_api, max_unavailable=2).deploy(NEW, opts())

    assert result.ok
    assert result.detail["waves"] == [["m1", "m2"], ["m3"]]
    assert sequence(fly_api)[:3] == ["update m1", "update m2", "wait m1"]


def test_immediate_updates_every_machine_then_waits(fly_api: FakeFlyApi) -> None:
    result = make(fly_api).deploy(NEW, opts(strategy="immediate"))

    assert result.status is RolloutStatus.STABLE
    assert result.message == f"3 machine(s) of fly app hvb run {NEW} (immediate)"
    assert sequence(fly_api)[:4] == ["update m1", "update m2", "update m3", "wait m1"]
    assert fly_api.images() == all_on(fly_api, NEW)


def test_canary_verifies_the_first_machine_before_the_rest(fly_api: FakeFlyApi) -> None:
    seen: list[dict[str, str]] = []

    def verify() -> tuple[bool, str]:
        seen.append(fly_api.images())
        return True, "p95 480ms"

    result = make(fly_api).deploy(NEW, opts(strategy="canary", verify_canary=verify))

    assert result.status is RolloutStatus.STABLE
    assert seen == [{"m1": NEW, "m2": OLD, "m3": OLD}]
    assert fly_api.images() == all_on(fly_api, NEW)


def test_canary_rejected_by_the_verifier_is_restored(fly_api: FakeFlyApi) -> None:
    result = make(fly_api).deploy(NEW, opts(strategy="canary", verify_canary=lambda: (False, "error rate 7%")))

    assert result.status is RolloutStatus.FAILED
    assert result.message == (f"canary m1 failed verification: error rate 7%; restored m1 to {OLD}; m2, m3 untouched")
    assert fly_api.images() == all_on(fly_api, OLD)
    assert [len(fly_api.updates(m)) for m in ("m1", "m2", "m3")] == [2, 0, 0]


def test_canary_with_a_bad_image_restores_the_canary_only(fly_api: FakeFlyApi, rec: Recorder) -> None:
    fly_api.fail_image("bad")

    result = make(fly_api).deploy(BAD, opts(rec, strategy="canary"))

    assert result.status is RolloutStatus.FAILED
    # How many restarts happen before the driver looks depends on timing: any is a crash.
    expected = (
        rf"machine m1 on {BAD}: exited \d time\(s\) since it started \(exit code 1\); "
        rf"restored m1 to {OLD}; m2, m3 untouched"
    )
    assert re.fullmatch(expected, result.message), result.message
    assert fly_api.images() == all_on(fly_api, OLD)
    assert fly_api.updates("m2") == []
    assert fly_api.updates("m3") == []
    assert result.detail["machines"]["m1"] == {"before": OLD, "after": OLD, "action": "restored", "restored_to": OLD}
    assert result.release is not None
    assert result.release.image == OLD
    assert fly_api.leases() == {}  # released after a failure too


def test_machine_that_never_starts_fails_and_is_restored(fly_api: FakeFlyApi) -> None:
    fly_api.fail_image("bad", mode="fail")

    result = make(fly_api).deploy(BAD, opts())

    assert result.status is RolloutStatus.FAILED
    assert result.message.startswith(f"machine m1 on {BAD}: state failed; restored m1 to {OLD}")
    assert fly_api.images() == all_on(fly_api, OLD)


def test_failure_on_the_second_machine_restores_the_first_and_never_touches_the_third(
    fly_api: FakeFlyApi,
) -> None:
    fly_api.critical_checks(machine="m2", image="1.8.0", output="GET /health: 503 database down")

    result = make(fly_api).deploy(NEW, opts())

    assert result.status is RolloutStatus.FAILED
    assert result.message == (
        f"machine m2 on {NEW}: check health critical: GET /health: 503 database down; "
        f"restored m1, m2 to {OLD}; m3 untouched"
    )
    assert fly_api.images() == all_on(fly_api, OLD)
    assert fly_api.updates("m3") == []
    assert result.detail["restored"] == {"m1": OLD, "m2": OLD}
    assert result.detail["machines"]["m3"] == {"before": OLD, "after": OLD, "action": "untouched"}
    assert "warning" not in result.detail


def test_failed_restore_needs_a_human(fly_api: FakeFlyApi) -> None:
    fly_api.critical_checks(machine="m2")  # on every image: the old one cannot come back either

    with pytest.raises(NeedsHuman) as caught:
        make(fly_api).deploy(NEW, opts())

    assert str(caught.value) == (
        f"machine m2 on {NEW}: check health critical: 500 Internal Server Error; restoring the previous image "
        f"failed (m2: machine m2 on {OLD}: check health critical: 500 Internal Server Error)"
    )
    assert caught.value.exit_code is ExitCode.NEEDS_HUMAN
    assert fly_api.images() == all_on(fly_api, OLD)  # m1 was restored before m2 failed again
    assert fly_api.leases() == {}


def test_api_failing_mid_rollout_undoes_what_changed(fly_api: FakeFlyApi, rec: Recorder) -> None:
    fly_api.fail_next(5, 503, method="GET", path="/machines/m2")  # every retry of one read of m2

    result = make(fly_api, rec).deploy(NEW, opts())

    assert result.status is RolloutStatus.FAILED
    assert result.message == (
        "rollout stopped by an API error: Fly API GET machines/m2: HTTP 503: injected HTTP 503; "
        f"restored m1, m2 to {OLD}; m3 untouched"
    )
    assert fly_api.images() == all_on(fly_api, OLD)


def test_a_failed_wait_call_is_read_past(fly_api: FakeFlyApi, rec: Recorder) -> None:
    fly_api.fail_next(5, 503, method="GET", path="/machines/m2/wait")  # every retry of one wait call

    result = make(fly_api, rec).deploy(NEW, opts(rec))

    assert result.status is RolloutStatus.STABLE
    assert any(e.startswith("m2: wait failed (Fly API GET machines/m2/wait: HTTP 503") for e in rec.events)


def test_checks_not_passing_by_the_deadline_time_out_and_restore(fly_api: FakeFlyApi) -> None:
    fly_api.check_delay = 1.0  # checks report nothing for a second: no result is not a pass

    result = make(fly_api).deploy(NEW, opts(timeout=0.4))

    assert result.status is RolloutStatus.TIMEOUT
    assert result.message.startswith(f"machine m1 on {NEW}: no result yet from health at the deadline")
    assert fly_api.images() == all_on(fly_api, OLD)


def test_platform_revert_is_reported_as_reverted(fly_api: FakeFlyApi) -> None:
    fly_api.revert_updates("m2")

    result = make(fly_api).deploy(NEW, opts())

    assert result.status is RolloutStatus.REVERTED
    assert result.message == (
        f"fly put machine m2 back on {OLD} after the update to {NEW}; restored m1 to {OLD}; m3 untouched"
    )
    assert result.detail["machines"]["m2"]["action"] == "reverted"
    assert fly_api.images() == all_on(fly_api, OLD)


# -- leases ------------------------------------------------------------------------------


def test_lease_held_by_someone_else_raises_locked_and_changes_nothing(fly_api: FakeFlyApi) -> None:
    fly_api.hold_lease("m2", owner="alice@example.com")
    until = datetime.fromtimestamp(int(fly_api.leases()["m2"]["expires_at"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    with pytest.raises(Locked) as caught:
        make(fly_api).deploy(NEW, opts())

    assert str(caught.value) == f"fly machine m2 of app hvb is leased by alice@example.com until {until}"
    assert caught.value.exit_code is ExitCode.LOCKED
    assert fly_api.updates() == []
    assert fly_api.leases() == {"m2": fly_api.leases()["m2"]}  # our lease on m1 was given back
    assert fly_api.leases()["m2"]["owner"] == "alice@example.com"


def test_cancel_interrupts_and_releases_leases(fly_api: FakeFlyApi) -> None:
    # The rule (fly_rollout docstring): the machine in flight reaches a verdict, then every
    # machine this rollout changed goes back, so the app runs one image when the run stops.
    cancel = threading.Event()
    events: list[str] = []

    def on_event(message: str) -> None:
        events.append(message)
        if message.startswith("m1: started"):
            cancel.set()

    result = make(fly_api).deploy(NEW, RolloutOptions(timeout=10, poll_interval=0.02, on_event=on_event, cancel=cancel))

    assert result.status is RolloutStatus.INTERRUPTED
    assert result.message == f"cancelled; restored m1 to {OLD}; m2, m3 untouched"
    assert fly_api.updates("m2") == []
    assert fly_api.leases() == {}
    assert fly_api.images() == all_on(fly_api, OLD)
    assert "warning" not in result.detail, "no machine is left on the new image"
    stop = events.index(f"m1: stopping; letting its update to {NEW} reach a verdict first")
    assert events.index("m1: healthy (1 checks passing)", stop) < events.index(f"m1: restoring {OLD}", stop)
    assert events[-3:] == ["m1: lease released", "m2: lease released", "m3: lease released"]


def test_ctrl_c_releases_leases(fly_api: FakeFlyApi) -> None:
    def interrupt() -> tuple[bool, str]:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make(fly_api).deploy(NEW, opts(strategy="canary", verify_canary=interrupt))

    assert fly_api.leases() == {}


def test_leases_are_renewed_with_their_nonce(fly_api: FakeFlyApi) -> None:
    now = [100.0]
    client = FlyClient(fly_api.url, "hvb", TOKEN)
    _OPEN.append(client)
    leases = LeaseSet(client, 10, clock=lambda: now[0])
    with leases:
        leases.acquire_all(["m1"])
        nonce = leases.nonce("m1")
        leases.renew_due()  # too early: nothing sent
        now[0] += 6
        fly_api.fail_next(1, 503, method="POST", path="/machines/m1/lease")
        leases.renew_due()  # a failed renewal is retried at the next poll, not fatal
        leases.renew_due()
        assert fly_api.leases()["m1"]["owner"] == "deploy@hvb.example"

    posts = fly_api.calls("POST", "/machines/m1/lease")
    assert [p.status for p in posts] == [200, 503, 200]
    assert posts[2].headers["fly-machine-lease-nonce"] == nonce
    assert fly_api.leases() == {}


# -- input errors --------------------------------------------------------------------------


def test_missing_token_is_bad_input(fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLY_API_TOKEN", raising=False)
    with pytest.raises(BadInput) as caught:
        FlyPlatform.from_config(fly_api.platform_config())
    assert str(caught.value) == (
        "FLY_API_TOKEN is not set: export a Fly API token (fly tokens create deploy) in FLY_API_TOKEN"
    )

    monkeypatch.setenv("HVB_FLY_TOKEN", "")
    with pytest.raises(BadInput) as caught:
        FlyPlatform.from_config(fly_api.platform_config(token_env="HVB_FLY_TOKEN"))
    assert str(caught.value) == (
        "HVB_FLY_TOKEN is not set: export a Fly API token (fly tokens create deploy) in HVB_FLY_TOKEN"
    )


def test_from_config_reads_the_token_and_registers_it_with_the_redactor(fly_api: FakeFlyApi, fly_env: None) -> None:
    redactor = Redactor()
    platform = FlyPlatform.from_config(fly_api.platform_config(), redactor=redactor)
    _OPEN.append(platform)

    assert platform.describe() == f"fly app hvb ({fly_api.url})"
    assert redactor.text(f"token={TOKEN}!") == "token=***!"


def test_bad_strategy_image_and_app_are_bad_input(fly_api: FakeFlyApi) -> None:
    platform = make(fly_api)
    with pytest.raises(BadInput, match="unknown fly strategy 'blue-green': use one of rolling, canary, immediate"):
        platform.deploy(NEW, opts(strategy="blue-green"))
    with pytest.raises(BadInput, match=re.escape("not an image reference: 'hvb 1.8'")):
        platform.deploy("hvb 1.8", opts())
    with pytest.raises(BadInput, match=re.escape(f"fly app 'nope' not found at {fly_api.url}")):
        make(fly_api, app="nope").current_release()
    assert fly_api.updates() == []


def test_wrong_token_is_reported_without_the_token(fly_api: FakeFlyApi) -> None:
    platform = FlyPlatform(fly_api.platform_config(), environ={"FLY_API_TOKEN": "fo1_wrong-token-123456"})
    _OPEN.append(platform)
    with pytest.raises(FlyApiError) as caught:
        platform.current_release()
    assert str(caught.value) == (
        "Fly API refused the token (401 on GET machines): You must be authenticated to view this."
    )


# -- reads: releases, plan, warnings ----------------------------------------------------------


def test_plan_reads_only_and_shows_the_change(fly_api: FakeFlyApi) -> None:
    plan = make(fly_api).plan(NEW)

    assert plan.summary == f"fly app hvb: m1, m2, m3: {OLD} -> {NEW} (rolling, 1 at a time)"
    assert plan.current is not None
    assert plan.current.image == OLD
    assert f'-  "image": "{OLD}",' in plan.diff
    assert f'+  "image": "{NEW}",' in plan.diff
    assert plan.diff[0] == "--- machines m1, m2, m3 config (current)"
    assert {r.method for r in fly_api.requests} == {"GET"}


def test_mixed_images_current_release_is_the_majority_and_warned(fly_api: FakeFlyApi) -> None:
    fly_api.set_image("m1", NEW)
    fly_api.set_image("m3", NEW)
    platform = make(fly_api)

    assert platform.current_release().image == NEW
    assert platform.warnings() == [f"machines on mixed images: {NEW} (m1, m3), {OLD} (m2)"]
    assert make(fly_api).plan(NEW).summary == f"fly app hvb: m2: {OLD} -> {NEW} (rolling, 1 at a time)"


def test_resume_leaves_machines_already_on_the_image_alone(fly_api: FakeFlyApi) -> None:
    fly_api.set_image("m1", NEW)

    result = make(fly_api).deploy(NEW, opts())

    assert result.status is RolloutStatus.STABLE
    assert result.message == f"3 machine(s) of fly app hvb run {NEW} (rolling, 1 at a time); m1 already did"
    assert fly_api.updates("m1") == []
    assert fly_api.images() == all_on(fly_api, NEW)


def test_failure_after_resume_restores_the_earlier_attempt_too(fly_api: FakeFlyApi) -> None:
    fly_api.set_image("m1", NEW)  # an earlier attempt; opsctl_previous_image says OLD
    fly_api.critical_checks(machine="m3", image="1.8.0")

    result = make(fly_api).deploy(NEW, opts())

    assert result.status is RolloutStatus.FAILED
    assert fly_api.images() == all_on(fly_api, OLD)
    assert result.detail["restored"] == {"m1": OLD, "m2": OLD, "m3": OLD}


def test_resumed_rollout_that_is_unhealthy_goes_back_to_the_previous_image(fly_api: FakeFlyApi) -> None:
    fly_api.fail_image("bad", mode="stop")
    for machine in ("m1", "m2", "m3"):
        fly_api.set_image(machine, BAD)  # an earlier attempt got everywhere

    result = make(fly_api).deploy(BAD, opts())

    assert result.status is RolloutStatus.FAILED
    assert result.message.endswith(f"; restored m1, m2, m3 to {OLD}")
    assert fly_api.images() == all_on(fly_api, OLD)


def test_rollback_and_release_history(fly_api: FakeFlyApi) -> None:
    platform = make(fly_api)
    assert platform.deploy(NEW, opts()).ok

    assert [r.id for r in platform.releases()] == [NEW, OLD]
    target = platform.find_release("hvb:1.7.0")
    assert target == Release(id=OLD, image=OLD, detail={"source": "machine metadata"})
    assert platform.find_release("1.7.0") == target
    assert platform.find_release(OLD) == target
    assert platform.find_release("hvb:0.1.0") is None
    assert platform.can_deploy(target) == (True, "Fly pulls the image by reference")
    assert platform.can_deploy(Release(id="x", image="Not An Image")) == (
        False,
        "not an image reference: 'Not An Image'",
    )

    result = platform.rollback(target, opts())

    assert result.status is RolloutStatus.STABLE
    assert result.detail["rollback_to"] == OLD
    assert fly_api.images() == all_on(fly_api, OLD)
    assert [r.id for r in platform.releases()] == [OLD, NEW]


# -- HTTP behaviour, end to end -------------------------------------------------------------


def test_429_retry_after_is_honoured(fly_api: FakeFlyApi, rec: Recorder) -> None:
    fly_api.fail_next(1, 429, method="GET", path="/machines", retry_after="2")
    fly_api.fail_next(1, 429, method="POST", path="/machines/m2", retry_after="1")

    platform = make(fly_api, rec)
    assert platform.current_release().image == OLD
    assert platform.deploy(NEW, opts()).ok

    assert rec.sleeps[:2] == [2.0, 1.0]
    assert [r.status for r in fly_api.updates("m2")] == [429, 200]  # refused, then applied once


def test_500_is_retried_for_reads(fly_api: FakeFlyApi, rec: Recorder) -> None:
    fly_api.fail_next(2, 500, method="GET", path="/machines")

    assert make(fly_api, rec).current_release().image == OLD
    assert [r.status for r in fly_api.calls("GET", "/machines")] == [500, 500, 200]
    assert len(rec.sleeps) == 2


def test_ambiguous_update_errors_read_the_machine_instead_of_posting_again(fly_api: FakeFlyApi, rec: Recorder) -> None:
    fly_api.fail_next(1, 500, method="POST", path="/machines/m1", apply=True)  # applied, answer is 500
    fly_api.drop_next(1, method="POST", path="/machines/m2", apply=True)  # applied, connection dropped

    result = make(fly_api).deploy(NEW, opts(rec))

    assert result.status is RolloutStatus.STABLE
    assert [len(fly_api.updates(m)) for m in ("m1", "m2", "m3")] == [1, 1, 1]
    assert sum("update answer lost" in e for e in rec.events) == 2
    assert fly_api.images() == all_on(fly_api, NEW)


def test_update_that_was_not_applied_is_sent_again_after_a_read(fly_api: FakeFlyApi) -> None:
    fly_api.fail_next(1, 502, method="POST", path="/machines/m1")  # refused before applying

    result = make(fly_api).deploy(NEW, opts())

    assert result.ok
    assert [r.status for r in fly_api.updates("m1")] == [502, 200]
    methods = [(r.method, r.path.rsplit("/", 1)[-1]) for r in fly_api.requests]
    first_post = methods.index(("POST", "m1"))
    assert methods[first_post + 1] == ("GET", "m1")  # read before the second POST


def test_token_never_appears_in_results_events_errors_or_requests(fly_api: FakeFlyApi, rec: Recorder) -> None:
    fly_api.fail_image("bad")
    platform = make(fly_api, rec)
    results: list[Any] = [
        platform.deploy(NEW, opts(rec)),
        platform.deploy(BAD, opts(rec, strategy="canary")),
        platform.plan(NEW),
        platform.releases(),
        platform.warnings(),
    ]
    fly_api.hold_lease("m1")
    with pytest.raises(Locked) as caught:
        platform.deploy(OLD, opts(rec))
    results.append(caught.value)

    text = str(results) + str(rec.events) + str(fly_api.requests)
    assert results[0].ok
    assert results[1].status is RolloutStatus.FAILED
    assert TOKEN not in text
    assert "authorization" not in str(fly_api.requests).lower()


# -- HTTP behaviour, respx unit cases -------------------------------------------------------

API = "https://api.machines.dev"
MACHINES = f"{API}/v1/apps/hvb/machines"


def machine_json(image: str, instance: str = "I1") -> dict[str, Any]:
    return {"id": "m1", "state": "started", "instance_id": instance, "config": {"image": image}}


def unit_client(rec: Recorder) -> FlyClient:
    client = FlyClient(API, "hvb", TOKEN, sleep=rec.sleep)  # owns its httpx.Client, closed after the test
    _OPEN.append(client)
    return client


@respx.mock
def test_respx_retry_after_seconds_and_connect_errors_are_retried(rec: Recorder) -> None:
    route = respx.get(MACHINES).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.ConnectError("refused"),
            httpx.Response(200, json=[machine_json(OLD)]),
        ]
    )

    assert unit_client(rec).list_machines()[0]["id"] == "m1"
    assert route.call_count == 3
    assert rec.sleeps[0] == 3.0
    assert 0 < rec.sleeps[1] <= 1.0
    assert route.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_retry_after_accepts_an_http_date() -> None:
    now = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Fri, 01 May 2026 12:00:07 GMT", now=now) == 7.0
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds("600") == 60.0  # capped


@respx.mock
def test_respx_reads_give_up_after_max_attempts(rec: Recorder) -> None:
    route = respx.get(MACHINES).mock(return_value=httpx.Response(503, json={"error": "unavailable"}))

    with pytest.raises(FlyApiError, match="Fly API GET machines: HTTP 503: unavailable"):
        unit_client(rec).list_machines()
    assert route.call_count == 5
    assert len(rec.sleeps) == 4


@respx.mock
def test_respx_post_is_never_retried_after_a_5xx_or_timeout(rec: Recorder) -> None:
    route = respx.post(f"{MACHINES}/m1").mock(side_effect=[httpx.Response(500), httpx.ReadTimeout("slow")])
    client = unit_client(rec)

    with pytest.raises(FlyAmbiguous):
        client.update_machine("m1", {"image": NEW}, "nonce")
    with pytest.raises(FlyAmbiguous, match=r"no answer \(ReadTimeout\)"):
        client.update_machine("m1", {"image": NEW}, "nonce")
    assert route.call_count == 2
    assert rec.sleeps == []


@respx.mock
def test_respx_ambiguous_update_already_applied_is_not_posted_again(rec: Recorder) -> None:
    post = respx.post(f"{MACHINES}/m1").mock(side_effect=httpx.ReadTimeout("slow"))
    get = respx.get(f"{MACHINES}/m1").mock(return_value=httpx.Response(200, json=machine_json(NEW, "I2")))
    ops = MachineOps(unit_client(rec), lambda _m: "nonce", interval=0.01, cancel=threading.Event(), emit=rec.event)

    updated = ops.update("m1", {"image": NEW})

    assert updated["instance_id"] == "I2"
    assert post.call_count == 1
    assert get.call_count == 1


@respx.mock
def test_respx_ambiguous_update_not_applied_is_posted_again_after_the_read(rec: Recorder) -> None:
    post = respx.post(f"{MACHINES}/m1").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, json=machine_json(NEW, "I2"))]
    )
    get = respx.get(f"{MACHINES}/m1").mock(return_value=httpx.Response(200, json=machine_json(OLD)))
    ops = MachineOps(unit_client(rec), lambda _m: "nonce", interval=0.01, cancel=threading.Event(), emit=rec.event)

    assert ops.update("m1", {"image": NEW})["instance_id"] == "I2"
    assert post.call_count == 2
    assert get.call_count == 1


@respx.mock
def test_respx_error_bodies_echoing_the_token_are_redacted(rec: Recorder) -> None:
    respx.get(MACHINES).mock(return_value=httpx.Response(400, json={"error": f"bad header Bearer {TOKEN}"}))

    with pytest.raises(FlyApiError) as caught:
        unit_client(rec).list_machines()
    assert TOKEN not in str(caught.value)
    assert str(caught.value) == "Fly API GET machines: HTTP 400: bad header Bearer ***"


def test_results_are_plain_data(fly_api: FakeFlyApi) -> None:
    """The engine journals results as JSON: detail must hold only JSON-able values."""
    result: RolloutResult = make(fly_api).deploy(NEW, opts())
    assert json.loads(json.dumps(result.detail))["machines"]["m1"]["after"] == NEW
