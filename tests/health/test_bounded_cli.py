"""Whole-CLI runs of a health checklist against a hostile bot: exit codes, time, and a canary header secret."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.clirunner import Result, one_error, opsctl
from tests.support.context import base_config
from tests.support.hostile import HostileServer
from tests.support.isolation import _isolated, builtins
from tests.support.util import checklist, write_checklist

__all__ = ["_isolated", "builtins"]

CANARY = "hvb-canary-4f2a9c1e7b3d"
SLACK = 2.0  # the CLI starts up, the executor joins in slices


@pytest.fixture
def bot() -> Iterator[HostileServer]:
    with HostileServer(drip=0.2) as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, bot: HostileServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = base_config()
    config["environments"]["staging"]["health"] = {
        "base_url": bot.base,
        "timeout": "1s",
        "headers_env": {"Authorization": "HVB_HEALTH_TOKEN"},
    }
    (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    item = {"id": "live", "title": "Live", "uses": "health.live", "timeout": "3s", "retry": {"count": 5}}
    write_checklist(tmp_path, "probe", checklist(item, title="Probe"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def runs(*args: str) -> tuple[Result, Result]:
    return opsctl("checklist", "run", "probe", "--env", "staging", *args), opsctl(
        "--json", "checklist", "run", "probe", "--env", "staging", *args
    )


def assert_canary_nowhere(project: Path, *results: Result) -> None:
    log = (project / ".opsctl" / "audit.jsonl").read_text()
    for text in [log, *(r.out + r.err for r in results)]:
        for piece in (CANARY, CANARY[:10], CANARY[10:]):
            assert piece not in text


def test_a_trailing_newline_is_dropped_from_a_header_secret(
    project: Path, bot: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.answer("/health", body={"status": "ok", "version": "1.8.0"})
    monkeypatch.setenv("HVB_HEALTH_TOKEN", CANARY + "\n")
    plain, as_json = runs()
    assert (plain.code, as_json.code) == (0, 0)
    assert [r.headers["authorization"] for r in bot.requests] == [CANARY, CANARY]
    assert_canary_nowhere(project, plain, as_json)


def test_a_header_secret_with_a_line_break_inside_is_refused_by_name(
    project: Path, bot: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HVB_HEALTH_TOKEN", CANARY[:10] + "\n" + CANARY[10:])
    plain, as_json = runs()
    assert (plain.code, as_json.code) == (2, 2)
    assert one_error(plain) == (
        "error: environment variable HVB_HEALTH_TOKEN holds a control character (a line break?); "
        "it cannot be sent as the Authorization header of health probes"
    )
    assert bot.requests == []
    assert_canary_nowhere(project, plain, as_json)


def test_a_slowloris_health_endpoint_fails_the_item_within_its_budget(
    project: Path, bot: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.misbehave("/health", "/drip")
    monkeypatch.setenv("HVB_HEALTH_TOKEN", CANARY)
    started = time.monotonic()
    plain = opsctl("checklist", "run", "probe", "--env", "staging")
    elapsed = time.monotonic() - started
    # A 3s item: one 1s attempt, and the 5s retry interval no longer fits; never 6 attempts of the timeout.
    assert plain.code == 1
    assert elapsed < 3.0 + SLACK
    assert f"no answer from {bot.base}/health within the timeout (1.0s)" in plain.out
    as_json = opsctl("--json", "checklist", "run", "probe", "--env", "staging")
    assert as_json.code == 1
    (item,) = json.loads(as_json.out.splitlines()[-1])["items"]  # JSON Lines: events, then the result
    assert (item["status"], item["summary"]) == (
        "failed",
        f"no answer from {bot.base}/health within the timeout (1.0s)",
    )
    assert_canary_nowhere(project, plain, as_json)
