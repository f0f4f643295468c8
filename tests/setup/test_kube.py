"""``opsctl init --kubernetes``'s discovery through the official client against the API stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.errors import BadInput
from opsctl.setup.kube import discover_kube
from opsctl.setup.targets import kube_target
from tests.support.kube_api import OLD, KubeApiServer, kube_api_fixture  # noqa: F401


def test_the_deployment_gives_context_namespace_and_container(kube_api: KubeApiServer, tmp_path: Path) -> None:
    config = str(kube_api.kubeconfig(tmp_path / "kubeconfig"))
    found = discover_kube(kube_target("hvb-other/hvb/hotel-voice-bot"), kubeconfig=config)
    assert found.platform == {
        "kind": "kubernetes",
        "context": "hvb-other",
        "kubeconfig": config,
        "namespace": "hvb",
        "deployment": "hotel-voice-bot",
        "container": "bot",
    }
    assert found.health is None
    assert found.image == OLD
    assert found.notes == (
        "Deployment hvb/hotel-voice-bot (context hvb-other) has: bot, sidecar",
        "container: bot (the first)",
    )
    assert found.suggestions[1] == "health: {base_url: https://bot.example.com}"


def test_a_missing_deployment_is_one_line(kube_api: KubeApiServer, tmp_path: Path) -> None:
    config = str(kube_api.kubeconfig(tmp_path / "kubeconfig"))
    with pytest.raises(BadInput) as caught:
        discover_kube(kube_target("hvb-staging/hvb/nope"), kubeconfig=config)
    assert str(caught.value) == "Deployment nope not found in namespace hvb (context hvb-staging)"


def test_an_unknown_context_lists_the_known_ones(kube_api: KubeApiServer, tmp_path: Path) -> None:
    config = str(kube_api.kubeconfig(tmp_path / "kubeconfig"))
    with pytest.raises(BadInput) as caught:
        discover_kube(kube_target("prod/hvb/hotel-voice-bot"), kubeconfig=config)
    assert str(caught.value) == (
        f"kubeconfig context 'prod' does not exist in {config} (contexts: hvb-staging, hvb-other)"
    )
