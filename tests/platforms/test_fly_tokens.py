"""Fly tokens (``FlyV1`` vs Bearer, the FLY_API_TOKEN fallback) and the Fly client's bounded reads."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from opsctl.config import FlyPlatformConfig
from opsctl.errors import BadInput
from opsctl.platforms import fly_http
from opsctl.platforms.base import RolloutOptions, RolloutStatus
from opsctl.platforms.fly import FlyPlatform
from opsctl.platforms.fly_http import FlyAmbiguous, FlyApiError, FlyClient, authorization
from opsctl.values.redact import Redactor
from tests.support.fly_api import FakeFlyApi, fly_api_fixture  # noqa: F401 - registers fly_api
from tests.support.hostile import HostileServer

# The shape of `fly tokens create deploy` output (a macaroon; made up here).
FLYV1 = "FlyV1 fm2_lJPECAAAAAAAAMPkxBBQ3ZkZjE2NDQtOWU3Yy00OGQ3,fm2_lJPEtkVmMjliYzU4ZjA5ZDM0MDBl"
PLAIN = "fo1_plain-fly-token-0a1b2c3d4e5f"
MACHINES = "/v1/apps/hvb/machines"
SLACK = 1.0


@pytest.fixture
def api() -> Iterator[HostileServer]:
    with HostileServer(drip=0.2) as server:
        server.answer(MACHINES, body=[{"id": "m1", "config": {"image": "registry.fly.io/hvb:1.7.0"}}])
        yield server


def config(api_url: str, token_env: str = "HVB_FLY_TOKEN") -> FlyPlatformConfig:  # noqa: S107 - a name
    return FlyPlatformConfig(kind="fly", app="hvb", api_url=api_url, token_env=token_env)


def platform(api: HostileServer, environ: dict[str, str], token_env: str = "HVB_FLY_TOKEN") -> FlyPlatform:  # noqa: S107
    made = FlyPlatform(config(api.base, token_env), environ=environ, sleep=lambda _s: None)
    made.api._max_attempts = 1
    return made


def test_authorization_header_values() -> None:
    assert authorization(FLYV1) == FLYV1
    assert authorization(PLAIN) == f"Bearer {PLAIN}"


@pytest.mark.parametrize(("token", "sent"), [(FLYV1, FLYV1), (PLAIN, f"Bearer {PLAIN}")])
def test_flyv1_tokens_are_sent_as_they_are_and_plain_ones_as_bearer(api: HostileServer, token: str, sent: str) -> None:
    driver = platform(api, {"HVB_FLY_TOKEN": token + "\n"})  # a trailing newline is dropped
    try:
        assert driver.current_release().image == "registry.fly.io/hvb:1.7.0"
    finally:
        driver.close()
    assert [r.headers["authorization"] for r in api.requests] == [sent]
    assert driver.notices == []
    assert driver.redactor.text(f"token {token}") == "token ***"


def test_an_unset_token_env_falls_back_to_fly_api_token_and_says_so(api: HostileServer) -> None:
    driver = platform(api, {"FLY_API_TOKEN": PLAIN})
    try:
        assert driver.notices == ["HVB_FLY_TOKEN is not set: using the Fly API token from FLY_API_TOKEN"]
        assert driver.token_env == "FLY_API_TOKEN"
        assert driver.warnings() == ["HVB_FLY_TOKEN is not set: using the Fly API token from FLY_API_TOKEN"]
    finally:
        driver.close()
    assert api.requests[-1].headers["authorization"] == f"Bearer {PLAIN}"


def test_the_fallback_is_announced_by_a_deploy_and_kept_in_its_detail(fly_api: FakeFlyApi) -> None:
    events: list[str] = []
    driver = FlyPlatform(fly_api.platform_config(token_env="HVB_FLY_TOKEN"), environ={"FLY_API_TOKEN": fly_api.token})
    try:
        result = driver.deploy(
            "registry.fly.io/hvb:1.8.0", RolloutOptions(timeout=10.0, poll_interval=0.02, on_event=events.append)
        )
    finally:
        driver.close()
    assert result.status is RolloutStatus.STABLE
    assert events[0] == "HVB_FLY_TOKEN is not set: using the Fly API token from FLY_API_TOKEN"
    assert result.detail["token_env"] == "FLY_API_TOKEN"
    assert all(fly_api.token not in e for e in events)


def test_neither_variable_set_names_the_configured_one() -> None:
    with pytest.raises(BadInput) as caught:
        FlyPlatform(config("http://127.0.0.1:9"), environ={})
    assert str(caught.value) == (
        "HVB_FLY_TOKEN is not set: export a Fly API token (fly tokens create deploy) in HVB_FLY_TOKEN"
    )


def test_a_token_that_cannot_be_a_header_is_refused_without_echoing_it() -> None:
    with pytest.raises(BadInput) as caught:
        FlyPlatform(config("http://127.0.0.1:9"), environ={"HVB_FLY_TOKEN": PLAIN[:10] + "\n" + PLAIN[10:]})
    assert str(caught.value) == (
        "environment variable HVB_FLY_TOKEN holds a control character (a line break?); "
        "it cannot be sent as the Authorization header of Fly API calls"
    )


# -- bounded reads ------------------------------------------------------------------------------


def test_an_endless_answer_is_a_fly_api_error(api: HostileServer) -> None:
    api.misbehave(MACHINES, "/endless")
    driver = platform(api, {"HVB_FLY_TOKEN": PLAIN})
    started = time.monotonic()
    try:
        with pytest.raises(FlyApiError) as caught:
            driver.current_release()
    finally:
        driver.close()
    assert str(caught.value) == "Fly API GET machines: response too large (over 1 MiB)"
    assert time.monotonic() - started < 3.0


def test_an_endless_answer_to_a_post_leaves_its_effect_unknown(api: HostileServer) -> None:
    api.misbehave("/v1/apps/hvb/machines/m1", "/endless")
    client = FlyClient(api.base, "hvb", PLAIN, max_attempts=1)
    try:
        with pytest.raises(FlyAmbiguous, match=r"^Fly API POST machines/m1: response too large \(over 1 MiB\)$"):
            client.update_machine("m1", {"image": "x"}, "nonce")
    finally:
        client.close()


def test_a_dripping_answer_is_cut_off_by_the_total_deadline(
    api: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.misbehave(MACHINES, "/drip")
    # A byte every 0.2s never trips the 0.5s read timeout; connect + read = a 1s total deadline does.
    monkeypatch.setattr(fly_http, "DEFAULT_TIMEOUT", httpx.Timeout(0.5, connect=0.5))
    client = FlyClient(api.base, "hvb", PLAIN, max_attempts=1)
    started = time.monotonic()
    try:
        with pytest.raises(FlyApiError) as caught:
            client.list_machines()
    finally:
        client.close()
    assert str(caught.value) == f"Fly API GET machines: cannot reach {api.base} (ReadTimeout)"
    assert time.monotonic() - started < 1.0 + SLACK


def test_an_error_body_is_redacted_before_it_is_cut(api: HostileServer) -> None:
    # The token starts at offset 190 and the reason keeps 200 characters.
    api.answer(MACHINES, status=400, body="x" * 190 + PLAIN + " was refused")
    redactor = Redactor()
    client = FlyClient(api.base, "hvb", PLAIN, redactor=redactor, max_attempts=1)
    try:
        with pytest.raises(FlyApiError) as caught:
            client.list_machines()
    finally:
        client.close()
    assert str(caught.value) == "Fly API GET machines: HTTP 400: " + "x" * 190 + "*** was re"
    assert PLAIN[:6] not in str(caught.value)
