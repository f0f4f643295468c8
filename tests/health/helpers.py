"""Shared pieces of the health tests: a real bot on 127.0.0.1, contexts pointed at it, a fake platform.

There is no shared conftest (see tests/support/moto_server.py): bind the
fixtures you use in your module by assignment, e.g. ``bot = helpers.bot``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsctl.engine.context import RunContext
from opsctl.platforms.base import DeployPlan, Platform, Release, RolloutOptions, RolloutResult
from opsctl.sandbox.bot import BotServer
from tests.support.context import base_config, make_ctx


@pytest.fixture
def bot() -> Iterator[BotServer]:
    """A healthy bot serving 1.8.0, stopped after the test."""
    with BotServer(version="1.8.0") as server:
        yield server


def config_for(base_url: str, *, slo: dict[str, Any] | None = None, **health: Any) -> dict[str, Any]:
    """base_config() with staging's health pointed at ``base_url`` (short timeout by default)."""
    config = base_config()
    config["environments"]["staging"]["health"] = {"base_url": base_url, "timeout": "2s", **health}
    if slo is not None:
        config["slo"] = slo
    return config


def ctx_for(tmp_path: Path, base_url: str, *, slo: dict[str, Any] | None = None, **health: Any) -> RunContext:
    return make_ctx(tmp_path, config_for(base_url, slo=slo, **health))


class FakePlatform(Platform):
    """Runs one release; only what health verification reads is implemented."""

    kind = "fake"

    def __init__(self, image: str = "hvb:1.8.0") -> None:
        self.release = Release(id="hvb-staging:7", image=image)

    def describe(self) -> str:
        return "fake hvb-staging"

    def current_release(self) -> Release:
        return self.release

    def releases(self, limit: int = 20) -> list[Release]:
        return [self.release]

    def find_release(self, ref: str) -> Release | None:
        return None

    def can_deploy(self, release: Release) -> tuple[bool, str]:
        raise NotImplementedError

    def plan(self, image: str) -> DeployPlan:
        raise NotImplementedError

    def deploy(self, image: str, options: RolloutOptions) -> RolloutResult:
        raise NotImplementedError

    def rollback(self, to: Release, options: RolloutOptions) -> RolloutResult:
        raise NotImplementedError


def with_platform(ctx: RunContext, image: str) -> RunContext:
    ctx.platform_factory = lambda: FakePlatform(image)
    return ctx


class Timer:
    """``with Timer() as t: ...; t.elapsed``: the correctness bound on how long a fault may hold us."""

    def __enter__(self) -> Timer:
        self.started = time.monotonic()
        self.elapsed = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.monotonic() - self.started
