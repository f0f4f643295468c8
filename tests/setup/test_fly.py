"""``opsctl init --fly``'s discovery against the Fly Machines API stand-in on 127.0.0.1."""

from __future__ import annotations

import pytest

from opsctl.errors import BadInput
from opsctl.setup.fly import discover_fly
from opsctl.setup.targets import fly_target
from tests.support.fly_api import DEFAULT_IMAGE, FakeFlyApi, fly_api_fixture, fly_env_fixture  # noqa: F401


@pytest.mark.usefixtures("fly_env")
def test_the_app_s_machines_give_platform_health_url_and_image(fly_api: FakeFlyApi) -> None:
    found = discover_fly(fly_target("hvb"), api_url=fly_api.url)
    assert found.platform == {"kind": "fly", "app": "hvb", "api_url": fly_api.url}
    assert found.health == {"base_url": "https://hvb.fly.dev"}
    assert found.image == DEFAULT_IMAGE
    assert found.notes == (
        "Fly app hvb: 3 machine(s) in ams (process groups: app)",
        "public at https://hvb.fly.dev; its HTTP check reads /health",
    )


def test_another_token_variable_is_written_and_read(fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLY_API_TOKEN", raising=False)
    monkeypatch.setenv("HVB_FLY_TOKEN", fly_api.token)
    found = discover_fly(fly_target("hvb"), api_url=fly_api.url, token_env="HVB_FLY_TOKEN")
    assert found.platform["token_env"] == "HVB_FLY_TOKEN"
    # The stand-in answers 401 to any other token: one answered call means it was sent from HVB_FLY_TOKEN.
    assert [call.status for call in fly_api.calls("GET", "/machines")] == [200]


def test_no_token_names_the_variable(fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLY_API_TOKEN", raising=False)
    with pytest.raises(BadInput) as caught:
        discover_fly(fly_target("hvb"), api_url=fly_api.url)
    assert str(caught.value) == (
        "FLY_API_TOKEN is not set: export a Fly API token (fly tokens create deploy) in FLY_API_TOKEN"
    )
    assert fly_api.requests == []


@pytest.mark.usefixtures("fly_env")
def test_an_unknown_app_is_one_line(fly_api: FakeFlyApi) -> None:
    with pytest.raises(BadInput) as caught:
        discover_fly(fly_target("ghost"), api_url=fly_api.url)
    assert str(caught.value) == f"fly app 'ghost' not found at {fly_api.url}"
