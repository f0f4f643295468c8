"""Bad input and unavailable API servers: each one clear line, with the right exit code."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from opsctl.errors import BadInput, ExitCode, Unavailable
from opsctl.platforms.kube.client import connect, kubernetes_module
from opsctl.platforms.kube.driver import KubernetesPlatform
from tests.platforms.kube.support import NEW, config_for, kube_api, kubeconfig, options, platform
from tests.support.kube_api import KubeApiServer

__all__ = ["kube_api", "kubeconfig", "platform"]  # fixtures


def test_missing_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    with pytest.raises(BadInput) as caught:
        kubernetes_module()
    assert str(caught.value) == (
        "the Kubernetes platform needs the kubernetes client: pip install 'opsctl[kubernetes]'"
    )


def test_unknown_context_lists_the_contexts(kubeconfig: Path) -> None:
    with pytest.raises(BadInput) as caught:
        connect(str(kubeconfig), "prod")
    assert str(caught.value) == (
        f"kubeconfig context 'prod' does not exist in {kubeconfig} (contexts: hvb-staging, hvb-other)"
    )


def test_missing_kubeconfig_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BadInput) as caught:
        connect(str(tmp_path / "nope"), None, environ={})
    assert str(caught.value) == "kubeconfig nope does not exist: set platform.kubeconfig or KUBECONFIG"
    with pytest.raises(BadInput, match=r"set locks.kubeconfig or KUBECONFIG$"):
        connect(str(tmp_path / "nope"), None, environ={}, section="locks")


def test_kubeconfig_from_the_environment_and_its_current_context(kubeconfig: Path) -> None:
    connection = connect(None, None, environ={"KUBECONFIG": str(kubeconfig)})
    assert connection.context == "hvb-staging"
    connection.close()


def test_an_exec_credential_plugin_provides_the_token(kube_api: KubeApiServer, tmp_path: Path) -> None:
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": kube_api.token},
    }
    plugin = tmp_path / "plugin.py"
    plugin.write_text(f"import json\nprint(json.dumps({json.dumps(credential)}))\n")
    path = kube_api.kubeconfig(tmp_path / "kubeconfig")
    config = yaml.safe_load(path.read_text())
    config["users"][0]["user"] = {
        "exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable, "args": [str(plugin)]}
    }
    path.write_text(yaml.safe_dump(config))
    driver = KubernetesPlatform.from_config(config_for(path))
    assert driver.current_release().detail["revision"] == 1
    driver.close()


def test_wrong_credentials_are_a_401_naming_verb_and_resource(kube_api: KubeApiServer, tmp_path: Path) -> None:
    path = kube_api.kubeconfig(tmp_path / "kubeconfig", token="expired")
    driver = KubernetesPlatform.from_config(config_for(path))
    with pytest.raises(BadInput) as caught:
        driver.current_release()
    assert str(caught.value) == (
        "the Kubernetes API server (hvb-staging) rejected our credentials (401 Unauthorized) to get deployments "
        "in namespace hvb: renew them (kubectl config view, your exec plugin)"
    )


def test_forbidden_names_the_verb_and_resource_the_role_lacks(
    platform: KubernetesPlatform, kube_api: KubeApiServer
) -> None:
    kube_api.forbidden.add(("patch", "deployments"))
    with pytest.raises(BadInput) as caught:
        platform.plan(NEW)
    assert str(caught.value) == (
        "forbidden (403): context hvb-staging may not patch deployments in namespace hvb; "
        "see `opsctl platform rbac --print` for the Role opsctl needs"
    )
    assert caught.value.exit_code is ExitCode.BAD_INPUT


def test_a_missing_namespace_and_a_missing_deployment(kubeconfig: Path) -> None:
    with pytest.raises(BadInput) as caught:
        KubernetesPlatform.from_config(config_for(kubeconfig, namespace="nope")).current_release()
    assert str(caught.value) == "namespace nope does not exist in context hvb-staging"
    with pytest.raises(BadInput) as caught:
        KubernetesPlatform.from_config(config_for(kubeconfig, deployment="api")).current_release()
    assert str(caught.value) == "deployment api does not exist in namespace hvb (context hvb-staging)"


def test_a_container_not_in_the_template_lists_the_names(kubeconfig: Path) -> None:
    driver = KubernetesPlatform.from_config(config_for(kubeconfig, container="api"))
    with pytest.raises(BadInput) as caught:
        driver.deploy(NEW, options())
    assert str(caught.value) == (
        "container 'api' is not in the pod template of deployment hvb/hotel-voice-bot (containers: bot, sidecar)"
    )


def test_an_unreachable_api_server_is_unavailable_exit_5(platform: KubernetesPlatform, kube_api: KubeApiServer) -> None:
    kube_api.stop_listening()
    with pytest.raises(Unavailable) as caught:
        platform.deploy(NEW, options())
    message = str(caught.value)
    assert message.startswith(f"the Kubernetes API server {kube_api.url} (hvb-staging) is unreachable (")
    assert message.endswith("while trying to get deployments; nothing was changed by this call, try again")
    assert caught.value.exit_code is ExitCode.UNAVAILABLE


def test_poll_interval_is_at_most_5s(kubeconfig: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="must be at most 5s"):
        config_for(kubeconfig, poll_interval="10s")
