"""A driver reaching the stand-in API server through a kubeconfig file, for the unit tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsctl.config import KubernetesPlatformConfig
from opsctl.platforms.base import RolloutOptions
from opsctl.platforms.kube.driver import KubernetesPlatform
from tests.support.kube_api import DEPLOYMENT, NAMESPACE, kube_api_fixture, kubeconfig_fixture

NEW = "ghcr.io/hvb/bot:1.8.0"


def config_for(kubeconfig: Path, **extra: Any) -> KubernetesPlatformConfig:
    settings: dict[str, Any] = {
        "kind": "kubernetes",
        "kubeconfig": str(kubeconfig),
        "context": "hvb-staging",
        "namespace": NAMESPACE,
        "deployment": DEPLOYMENT,
        "container": "bot",
        "poll_interval": "0.05s",
        **extra,
    }
    return KubernetesPlatformConfig.model_validate(settings)


def options(events: list[str] | None = None, **extra: Any) -> RolloutOptions:
    sink = events if events is not None else []
    return RolloutOptions(timeout=extra.pop("timeout", 20.0), poll_interval=0.05, on_event=sink.append, **extra)


kube_api = kube_api_fixture


kubeconfig = kubeconfig_fixture


@pytest.fixture
def platform(kubeconfig: Path) -> Iterator[KubernetesPlatform]:
    driver = KubernetesPlatform.from_config(config_for(kubeconfig))
    try:
        yield driver
    finally:
        driver.close()
