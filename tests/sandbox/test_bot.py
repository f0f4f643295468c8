"""The demo bot's control API, and the Prometheus text reader it is checked with."""

from __future__ import annotations

import httpx
import pytest

from opsctl.health.promtext import ExpositionError, parse_exposition
from opsctl.sandbox.bot import BotServer
from tests.health import helpers

bot = helpers.bot


def test_version_can_follow_a_callable(bot: BotServer) -> None:
    running = {"image": "hvb:1.8.0"}
    bot.configure(version=lambda: running["image"].split(":")[1])
    assert httpx.get(f"{bot.url}/health").json()["version"] == "1.8.0"
    running["image"] = "hvb:1.9.0"
    assert httpx.get(f"{bot.url}/health").json()["version"] == "1.9.0"


def test_rate_limit_counts_down_and_reset_heals(bot: BotServer) -> None:
    bot.configure(rate_limit=1, retry_after=7)
    first = httpx.get(f"{bot.url}/health")
    assert (first.status_code, first.headers["retry-after"]) == (429, "7")
    assert httpx.get(f"{bot.url}/health").status_code == 200
    bot.configure(status=503)
    bot.reset()
    assert httpx.get(f"{bot.url}/health").status_code == 200


def test_fault_paths_limit_the_faults(bot: BotServer) -> None:
    bot.configure(status=500, fault_paths={"/api/messages"})
    assert httpx.get(f"{bot.url}/health").status_code == 200
    assert httpx.post(f"{bot.url}/api/messages", json={"text": "hi"}).status_code == 500


def test_messages_endpoint(bot: BotServer) -> None:
    answer = httpx.post(f"{bot.url}/api/messages", json={"text": "Hello"}).json()
    assert answer["intent"] == "greeting"
    assert httpx.post(f"{bot.url}/api/messages", json={}).status_code == 400
    bot.configure(version="2.0.0-bad")
    assert httpx.post(f"{bot.url}/api/messages", json={"text": "Hello"}).status_code == 500


def test_refuse_and_resume_on_the_same_port(bot: BotServer) -> None:
    port = bot.port
    bot.stop_listening()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{bot.url}/health")
    bot.resume()
    assert bot.port == port
    assert httpx.get(f"{bot.url}/health").status_code == 200


def test_unknown_knob_is_an_error(bot: BotServer) -> None:
    with pytest.raises(TypeError, match="unknown bot behaviour: colour"):
        bot.configure(colour="red")


def test_metrics_exposition_parses() -> None:
    parsed = parse_exposition('# TYPE x counter\nx{a="1"} 3\nx{a="2"} 4 1700000000000\ny NaN\nz +Inf\n')
    assert parsed.samples == {"x": 2, "y": 1, "z": 1}
    with pytest.raises(ExpositionError, match=r"^line 2 is not a Prometheus sample: 'oops'$"):
        parse_exposition("a 1\noops\n")
