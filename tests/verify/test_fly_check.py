"""The Fly pre-flight check: the app exists and the token can read it (respx, unit level)."""

from __future__ import annotations

import httpx
import respx

from opsctl.config import FlyPlatformConfig
from opsctl.values.redact import Redactor
from opsctl.verify.fly import check_app
from opsctl.verify.result import Verdict

API = "http://127.0.0.1:9"
CONFIG = FlyPlatformConfig(kind="fly", app="hvb", api_url=API, token_env="HVB_FLY_TOKEN")
ENV = {"HVB_FLY_TOKEN": "fly-token-value-1234"}
URL = f"{API}/v1/apps/hvb/machines"


@respx.mock
def test_readable_app_passes() -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(200, json=[{"id": "m1"}, {"id": "m2"}]))
    check = check_app(CONFIG, Redactor(), ENV)
    assert (check.verdict, check.summary) == (
        Verdict.PASSED,
        "fly app hvb exists; HVB_FLY_TOKEN can read it (2 machines)",
    )
    assert route.calls[0].request.headers["Authorization"] == "Bearer fly-token-value-1234"


@respx.mock
def test_missing_app_and_refused_token_fail() -> None:
    respx.get(URL).mock(side_effect=[httpx.Response(404), httpx.Response(401)])
    missing = check_app(CONFIG, Redactor(), ENV)
    assert (missing.verdict, missing.summary) == (Verdict.FAILED, f"fly app hvb not found at {API}")
    refused = check_app(CONFIG, Redactor(), ENV)
    assert (refused.verdict, refused.summary) == (
        Verdict.FAILED,
        "the token in HVB_FLY_TOKEN cannot read fly app hvb (HTTP 401)",
    )


@respx.mock
def test_unreachable_api_is_unavailable() -> None:
    respx.get(URL).mock(side_effect=httpx.ConnectError("Connection refused"))
    check = check_app(CONFIG, Redactor(), ENV)
    assert (check.verdict, check.summary) == (
        Verdict.UNAVAILABLE,
        f"Fly API is unavailable: cannot connect to {URL}: connection refused",
    )
