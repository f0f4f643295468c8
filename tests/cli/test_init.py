"""``opsctl init``: discovery to a commented opsctl.yaml that loads, never over a file without --force."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsctl.config import load_config
from tests.setup.support import create_balanced_service
from tests.support import moto_server as aws_support
from tests.support.clirunner import one_error, opsctl
from tests.support.fly_api import FakeFlyApi, fly_api_fixture, fly_env_fixture  # noqa: F401
from tests.support.kube_api import KubeApiServer, kube_api_fixture  # noqa: F401
from tests.support.moto_server import MotoServer, create_ecs_service

moto_server = aws_support.moto_server
aws = aws_support.aws
TARGET = "hvb-staging/hotel-voice-bot"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPSCTL_CONFIG", raising=False)
    return tmp_path


def test_init_ecs_writes_a_commented_config_that_loads(aws: MotoServer, here: Path) -> None:
    balanced = create_balanced_service(aws)
    result = opsctl("init", "--ecs", TARGET)
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == [
        "wrote opsctl.yaml: service hotel-voice-bot, 1 environment(s)",
        f"  staging: ecs {TARGET} · http://{balanced.dns}",
        "next: opsctl config check, then opsctl deploy staging --image IMAGE --dry-run",
    ]
    config = load_config(here / "opsctl.yaml")
    staging = config.environment("staging")
    assert staging.platform.model_dump(include={"kind", "region", "cluster", "service", "container"}) == {
        "kind": "ecs",
        "region": "eu-west-1",
        "cluster": "hvb-staging",
        "service": "hotel-voice-bot",
        "container": "bot",
    }
    assert staging.health is not None
    assert staging.health.base_url == f"http://{balanced.dns}"
    assert not staging.protected
    text = (here / "opsctl.yaml").read_text()
    assert "    # ECS service hvb-staging/hotel-voice-bot in eu-west-1; task definition hvb:1 has: bot, envoy\n" in text
    assert "    # running now: hvb:1.7.0\n" in text
    assert "      # cloudwatch: {load_balancer: app/hvb-staging-lb/" in text
    assert "# github: {repo: owner/name}" in text
    check = opsctl("config", "check")
    assert check.code == 0, check.err


def test_an_existing_file_is_never_replaced_without_force(aws: MotoServer, here: Path) -> None:
    create_ecs_service(aws)
    (here / "opsctl.yaml").write_text("service: mine\n")
    result = opsctl("init", "--ecs", TARGET)
    assert result.code == 2
    assert one_error(result) == (
        "error: opsctl.yaml already exists: pass --force to replace it (or --print to see the new one)"
    )
    assert (here / "opsctl.yaml").read_text() == "service: mine\n"

    forced = opsctl("init", "--ecs", TARGET, "--force")
    assert forced.code == 0, forced.err
    assert "  the old file is kept as opsctl.yaml.bak" in forced.out.splitlines()
    assert (here / "opsctl.yaml.bak").read_text() == "service: mine\n"
    assert load_config(here / "opsctl.yaml").service == "hotel-voice-bot"


def test_print_shows_the_file_and_writes_nothing(aws: MotoServer, here: Path) -> None:
    create_ecs_service(aws)
    (here / "opsctl.yaml").write_text("service: mine\n")
    result = opsctl("init", "--ecs", TARGET, "--env", "live", "--service", "hvb", "--print")
    assert result.code == 0, result.err
    assert result.out.startswith("# opsctl.yaml, written by `opsctl init` on 2026-11-27 from what runs now:\n")
    assert "service: hvb\n" in result.out
    assert "  live:\n" in result.out
    assert (here / "opsctl.yaml").read_text() == "service: mine\n"


def test_json_describes_what_was_written(aws: MotoServer, here: Path) -> None:
    create_ecs_service(aws)
    result = opsctl("--json", "init", "--ecs", TARGET, "--file", "deploy/opsctl.yaml", "--health-url", "https://x.test")
    assert result.code == 2
    assert json.loads(result.err) == {
        "error": "deploy is not a folder: opsctl.yaml cannot be written there",
        "exit_code": 2,
    }
    (here / "deploy").mkdir()
    result = opsctl("--json", "init", "--ecs", TARGET, "--file", "deploy/opsctl.yaml", "--health-url", "https://x.test")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["path"] == "deploy/opsctl.yaml"
    assert document["written"] is True
    assert document["backup"] is None
    assert document["environments"]["staging"]["health"] == {"base_url": "https://x.test"}
    assert document["environments"]["staging"]["protected"] is False
    assert document["environments"]["staging"]["notes"][-1] == "health.base_url from --health-url: https://x.test"


@pytest.mark.usefixtures("fly_env")
def test_several_targets_make_several_environments_and_production_is_protected(
    aws: MotoServer, fly_api: FakeFlyApi, here: Path
) -> None:
    create_ecs_service(aws)
    result = opsctl("init", "--ecs", TARGET, "--fly", "hvb", "--fly-api-url", fly_api.url)
    assert result.code == 0, result.err
    config = load_config(here / "opsctl.yaml")
    assert list(config.environments) == ["staging", "production"]
    assert config.environment("production").protected
    assert config.environment("production").platform.kind == "fly"
    assert "    # requires: {promoted_from: staging, approvals: 1}" in (here / "opsctl.yaml").read_text()


def test_kubernetes_with_named_environment(kube_api: KubeApiServer, here: Path) -> None:
    kubeconfig = str(kube_api.kubeconfig(here / "kubeconfig"))
    result = opsctl(
        "init", "--kubernetes", "hvb-staging/hvb/hotel-voice-bot", "--kubeconfig", kubeconfig, "--env", "qa"
    )
    assert result.code == 0, result.err
    assert "  qa: kubernetes hvb-staging/hvb/hotel-voice-bot · no health.base_url yet" in result.out.splitlines()
    platform = load_config(here / "opsctl.yaml").environment("qa").platform
    assert platform.kind == "kubernetes"
    assert (platform.context, platform.namespace, platform.deployment, platform.container) == (
        "hvb-staging",
        "hvb",
        "hotel-voice-bot",
        "bot",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (),
            "error: say what to look at: --ecs CLUSTER/SERVICE, --fly APP or --kubernetes CONTEXT/NAMESPACE/DEPLOYMENT",
        ),
        (("--ecs", "hvb"), "error: --ecs hvb: give CLUSTER/SERVICE, e.g. --ecs hvb-staging/hotel-voice-bot"),
        (
            ("--ecs", TARGET, "--health-url", "ftp://x"),
            "error: --health-url ftp://x: give an http:// or https:// URL, e.g. https://staging.example.com",
        ),
        (
            ("--ecs", TARGET, "--health-url", "https://a.test", "--health-url", "https://b.test"),
            "error: 2 --health-url(s) for 1 target(s): give one per target, in the same order",
        ),
        (
            ("--ecs", TARGET, "--service", "-x"),
            "error: --service -x: letters, digits, '_', '.' and '-', starting with a letter or digit",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str, here: Path) -> None:
    result = opsctl("init", *args)
    assert result.code == 2
    assert one_error(result) == message
    assert not (here / "opsctl.yaml").exists()
