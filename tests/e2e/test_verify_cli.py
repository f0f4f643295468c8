"""End-to-end: `opsctl verify` and digest pinning, with the real registry and moto ECS on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsctl.values.imageref import ImageRef
from tests.e2e.harness import Project, TagBot, make_project, single_error_line
from tests.support import moto_server as aws_support
from tests.support import registry as registry_support
from tests.support.cli_env import CONFIRMS
from tests.support.moto_server import EcsService, MotoServer, create_ecs_service
from tests.support.registry import RegistryServer, free_port

moto_server = aws_support.moto_server
aws = aws_support.aws
oci_registry = registry_support.oci_registry


class PinnedTagBot(TagBot):
    """The sandbox bot serving the *tag* of a pinned reference (``host:port/hvb:1.8.0@sha256:...`` -> 1.8.0)."""

    def _read_tag(self) -> str:
        client = self._client
        svc = client.describe_services(cluster=self._service.cluster, services=[self._service.service])
        td = client.describe_task_definition(taskDefinition=svc["services"][0]["taskDefinition"])
        image = next(
            c["image"] for c in td["taskDefinition"]["containerDefinitions"] if c["name"] == self._service.container
        )
        ref = ImageRef.try_parse(image)
        return ref.version if ref is not None else image


@pytest.fixture
def reg_project(tmp_path: Path, aws: MotoServer, oci_registry: RegistryServer) -> Iterator[Project]:
    first = oci_registry.push_image("hvb", "1.7.0")
    service = create_ecs_service(aws, image=f"{oci_registry.host}/hvb:1.7.0@{first}")
    with PinnedTagBot(service) as bot:
        folder = tmp_path / "project"
        folder.mkdir()
        yield make_project(folder, service, aws, bot)


def _deploy(project: Project, image: str, *extra: str) -> Any:
    return project.run(
        "deploy",
        "staging",
        "--image",
        image,
        *CONFIRMS,
        "--timeout",
        "20s",
        *extra,
    )


def _revisions(service: EcsService) -> list[str]:
    return list(service.client().list_task_definitions()["taskDefinitionArns"])


def test_verify_missing_tag_exits_1_naming_repository_and_tag(
    reg_project: Project, oci_registry: RegistryServer
) -> None:
    host = oci_registry.host
    done = reg_project.run("verify", "staging", "--image", f"{host}/hvb:9.9.9")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"tag 9.9.9 not found in repository hvb of registry {host}" in done.stdout
    assert done.stdout.splitlines()[-1] == (
        f"verification failed: {host}/hvb:9.9.9: tag 9.9.9 not found in repository hvb of registry {host}"
    )
    assert "not checked  scan     no scan: limits in opsctl.yaml" in done.stdout.splitlines()


def test_deploy_of_a_missing_tag_changes_nothing(reg_project: Project, oci_registry: RegistryServer) -> None:
    before = (reg_project.task_definition(), _revisions(reg_project.service))
    done = _deploy(reg_project, f"{oci_registry.host}/hvb:9.9.9")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "step verify failed" in done.stdout
    assert f"tag 9.9.9 not found in repository hvb of registry {oci_registry.host}" in done.stdout
    assert (reg_project.task_definition(), _revisions(reg_project.service)) == before
    runs = reg_project.runs()
    assert runs[0]["status"] == "failed"


def test_verify_json_carries_the_digest(reg_project: Project, oci_registry: RegistryServer) -> None:
    digest = oci_registry.push_image("hvb", "1.8.0")
    image = f"{oci_registry.host}/hvb:1.8.0"
    report = reg_project.json("verify", "staging", "--image", image)
    assert report["ok"] is True
    assert report["exit_code"] == 0
    assert report["digest"] == digest
    assert report["pinned"] == f"{image}@{digest}"
    families = [(c["family"], c["verdict"]) for c in report["checks"]]
    assert families == [
        ("image", "passed"),
        ("scan", "not_checked"),
        ("roles", "passed"),
        ("roles", "passed"),
        ("secrets", "passed"),
        ("logs", "not_checked"),
    ]
    assert report["not_checked"] == [
        "scan: no scan: limits in opsctl.yaml",
        "logs: hvb:1 sends no logs to CloudWatch (no awslogs)",
    ]


def test_deploy_pins_the_digest_and_rollback_puts_the_same_digest_back(
    reg_project: Project, oci_registry: RegistryServer
) -> None:
    host = oci_registry.host
    verified = oci_registry.push_image("hvb", "1.8.0")
    done = _deploy(reg_project, f"{host}/hvb:1.8.0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert reg_project.image() == f"{host}/hvb:1.8.0@{verified}"
    releases = reg_project.json("releases", "staging")
    assert releases[0]["image"] == f"{host}/hvb:1.8.0@{verified}"
    assert ImageRef.parse(releases[0]["image"]).version == "1.8.0"  # the tag stays readable beside the digest
    events = reg_project.events()
    verify_events = [e for e in events if e.get("step") == "verify" and e.get("status") == "passed"]
    assert verify_events[-1]["state"]["pinned"] == {
        "tag_ref": f"{host}/hvb:1.8.0",
        "digest": verified,
        "image": f"{host}/hvb:1.8.0@{verified}",
    }

    # The tag moves after verification; a later release goes out; rollback must bring back what was verified.
    moved = oci_registry.push_image("hvb", "1.8.0", content="rebuilt")
    assert moved != verified
    nine = oci_registry.push_image("hvb", "1.9.0")
    assert _deploy(reg_project, f"{host}/hvb:1.9.0").returncode == 0
    assert reg_project.image() == f"{host}/hvb:1.9.0@{nine}"
    back = reg_project.run("rollback", "staging", "--timeout", "20s")
    assert back.returncode == 0, back.stdout + back.stderr
    assert reg_project.image() == f"{host}/hvb:1.8.0@{verified}"


def test_unreachable_registry_is_exit_5_before_any_change(reg_project: Project) -> None:
    host = f"127.0.0.1:{free_port()}"
    before = (reg_project.task_definition(), _revisions(reg_project.service))
    done = reg_project.run("verify", "staging", "--image", f"{host}/hvb:1.8.0")
    assert done.returncode == 5, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == (
        f"verification incomplete: registry {host} is unreachable: cannot connect to "
        f"http://{host}/v2/hvb/manifests/1.8.0: connection refused"
    )
    deployed = _deploy(reg_project, f"{host}/hvb:1.8.0")
    assert deployed.returncode == 5, deployed.stdout + deployed.stderr
    single_error_line(deployed.stderr, f"registry {host} is unreachable", "nothing was changed")
    assert (reg_project.task_definition(), _revisions(reg_project.service)) == before


def test_image_family_off_deploys_the_tag_unpinned(
    tmp_path: Path, aws: MotoServer, oci_registry: RegistryServer
) -> None:
    service = create_ecs_service(aws, image=f"{oci_registry.host}/hvb:1.7.0")
    with PinnedTagBot(service) as bot:
        project = make_project(tmp_path, service, aws, bot, verify={"image": False})
        image = f"{oci_registry.host}/hvb:2.0.0"  # never pushed: nothing asks the registry
        done = project.run("verify", "staging", "--image", image)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "image (verify.image: false; the tag is deployed unpinned)" in done.stdout
        deployed = _deploy(project, image)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert project.image() == image


def test_bad_image_is_exit_2(reg_project: Project) -> None:
    done = reg_project.run("verify", "staging", "--image", "Not An Image")
    assert done.returncode == 2
    single_error_line(done.stderr, "'Not An Image' is not a valid image reference")
    unknown = reg_project.run("verify", "nowhere", "--image", "hvb:1")
    assert unknown.returncode == 2
    single_error_line(unknown.stderr, "unknown environment 'nowhere'")


def test_scan_report_over_the_limit_fails(reg_project: Project, oci_registry: RegistryServer) -> None:
    oci_registry.push_image("hvb", "1.8.0")
    report = {"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"Severity": "CRITICAL"}, {"Severity": "HIGH"}]}]}
    (reg_project.path / "trivy-1.8.0.json").write_text(json.dumps(report))
    config = (reg_project.path / "opsctl.yaml").read_text()
    (reg_project.path / "opsctl.yaml").write_text(config + "scan: {max_critical: 0, report: 'trivy-{tag}.json'}\n")
    image = f"{oci_registry.host}/hvb:1.8.0"
    done = reg_project.run("verify", "staging", "--image", image)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == (
        f"verification failed: {image} has 1 critical (at most 0 allowed by scan.max_critical) "
        f"(trivy report {reg_project.path / 'trivy-1.8.0.json'})"
    )
