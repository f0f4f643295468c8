"""Fixtures of the change-management tests: moto ECS (staging + production), two bots, a project in a git repo."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.policy.support import Project, Receiver, ServiceBot
from tests.support import moto_server as aws_support
from tests.support.moto_server import MotoServer, create_ecs_service

moto_server = aws_support.moto_server
aws = aws_support.aws


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No config, actor, colour, proxy or secret from the caller's shell, nor its git config."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "OPSCTL_CONFIG",
        "OPSCTL_ACTOR",
        "FORCE_COLOR",
        "GITHUB_STEP_SUMMARY",
        "HVB_GH_TOKEN",
        "HVB_SLACK_HOOK",
        "HVB_PD_KEY",
        "HVB_WEBHOOK",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "250")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)  # no signing or hooks of the machine's git config
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def project(tmp_path: Path, aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """staging (hvb-staging) and protected production (hvb-production) on moto, both running hvb:1.7.0."""
    staging = create_ecs_service(aws, cluster="hvb-staging")
    production = create_ecs_service(aws, cluster="hvb-production", family="hvb-prod")
    with ServiceBot(staging) as staging_bot, ServiceBot(production) as production_bot:
        made = Project(tmp_path / "project", staging, production, staging_bot, production_bot)
        made.setup()
        monkeypatch.chdir(made.path)  # where people run opsctl; messages name files relative to it
        yield made


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP receiver on 127.0.0.1 that records every request (Slack, PagerDuty, webhook, GitHub)."""
    with Receiver() as made:
        yield made
