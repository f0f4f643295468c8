"""The factories: `kind: kubernetes` makes the driver, `locks.backend: kubernetes` the Lease lock."""

from __future__ import annotations

from pathlib import Path

from opsctl.config import Config, Environment, Locks
from opsctl.locks import make_lock_backend
from opsctl.locks.lease import LeaseLockBackend
from opsctl.platforms import make_platform
from opsctl.platforms.kube.driver import KubernetesPlatform
from opsctl.values.redact import Redactor
from tests.platforms.kube.support import config_for, kube_api, kubeconfig

__all__ = ["kube_api", "kubeconfig"]  # fixtures


def test_make_platform_and_lock_backend(kubeconfig: Path) -> None:
    env = Environment(platform=config_for(kubeconfig))
    driver = make_platform(env, Redactor())
    assert isinstance(driver, KubernetesPlatform)
    assert driver.current_release().image == "ghcr.io/hvb/bot:1.7.0"
    driver.close()
    config = Config(
        service="hvb",
        environments={"staging": env},
        locks=Locks(backend="kubernetes", namespace="hvb", kubeconfig=str(kubeconfig), context="hvb-staging"),
    )
    backend = make_lock_backend(config)
    assert isinstance(backend, LeaseLockBackend)
    assert backend.status("staging") is None


def test_the_schema_documents_the_kubernetes_platform() -> None:
    from opsctl.config import config_schema

    text = str(config_schema())
    assert "KubernetesPlatformConfig" in text
    assert "kubeconfig context (default: the current context)" in text
