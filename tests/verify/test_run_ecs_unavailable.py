"""ECS unreachable while verify reads the running task definition: ``unavailable``, exit 5, nothing changed."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from tests.support import moto_server as aws_support
from tests.support.clirunner import opsctl
from tests.support.moto_server import MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A project whose ECS endpoint is a closed port on 127.0.0.1; returns that endpoint."""
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "opsctl-tests-fake-key",
        "AWS_SECRET_ACCESS_KEY": "opsctl-tests-fake-key",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    platform = (
        "{kind: ecs, region: eu-west-1, cluster: hvb-staging, service: hotel-voice-bot, container: bot, "
        f"endpoint_url: '{endpoint}'}}"
    )
    (tmp_path / "opsctl.yaml").write_text(
        "service: hotel-voice-bot\n"
        "environments:\n"
        "  staging:\n"
        f"    platform: {platform}\n"
        "    health: {base_url: 'http://127.0.0.1:9'}\n"
    )
    monkeypatch.chdir(tmp_path)
    return endpoint


def _why(endpoint: str) -> str:
    return (
        "ECS in eu-west-1 is unavailable (reading the running task definition of hvb-staging/hotel-voice-bot): "
        f'Could not connect to the endpoint URL: "{endpoint}/"; nothing was changed, try again'
    )


def test_verify_with_ecs_unreachable_is_unavailable_exit_5(unreachable: str) -> None:
    done = opsctl("verify", "staging", "--image", "hvb:1.8.0")
    assert done.code == 5, done.out + done.err
    lines = done.out.splitlines()
    assert lines[2:] == [
        f"unavailable  roles    {_why(unreachable)}",
        "unavailable  secrets  the running task definition could not be read (ECS is unavailable)",
        "unavailable  logs     the running task definition could not be read (ECS is unavailable)",
        f"verification incomplete: {_why(unreachable)}",
    ]
    assert lines[0].startswith("not checked  image    hvb:1.8.0 names no registry: not checked")
    assert done.err == ""


def test_verify_json_carries_the_unavailable_verdicts(unreachable: str) -> None:
    done = opsctl("--json", "verify", "staging", "--image", "hvb:1.8.0")
    assert done.code == 5, done.out + done.err
    report = json.loads(done.out)
    assert (report["ok"], report["exit_code"]) == (False, 5)
    assert [(c["family"], c["verdict"]) for c in report["checks"]] == [
        ("image", "not_checked"),
        ("scan", "not_checked"),
        ("roles", "unavailable"),
        ("secrets", "unavailable"),
        ("logs", "unavailable"),
    ]
    assert report["checks"][2]["summary"] == _why(unreachable)


def test_deploy_stops_at_verify_with_exit_5_saying_once_that_nothing_changed(unreachable: str) -> None:
    done = opsctl("deploy", "staging", "--image", "hvb:1.8.0", "--confirm", "tests-confirmed")
    assert done.code == 5, done.out + done.err
    assert done.err == f"error: {_why(unreachable)}\n"
    assert "-> Plan the change" not in done.out  # stopped at the first step, before any change


def test_families_turned_off_need_no_ecs(unreachable: str, tmp_path: Path) -> None:
    config = tmp_path / "opsctl.yaml"
    config.write_text(
        config.read_text().replace(
            "    health:", "    verify: {image: false, roles: false, secrets: false, logs: false}\n    health:"
        )
    )
    done = opsctl("verify", "staging", "--image", "hvb:1.8.0")
    assert done.code == 0, done.out + done.err
    assert "unavailable" not in done.out


def test_an_ecs_answer_that_is_not_a_reachability_fault_stays_bad_input(
    aws: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ECS answered (no such cluster): fixing the config helps, trying again does not; exit 2, not 5."""
    (tmp_path / "opsctl.yaml").write_text(
        "service: hotel-voice-bot\n"
        "environments:\n"
        "  staging:\n"
        "    platform: {kind: ecs, region: eu-west-1, cluster: hvb-staging, service: hotel-voice-bot, container: bot}\n"
        "    health: {base_url: 'http://127.0.0.1:9'}\n"
    )
    monkeypatch.chdir(tmp_path)
    done = opsctl("verify", "staging", "--image", "hvb:1.8.0")
    assert (done.code, done.err) == (2, "error: ECS cluster 'hvb-staging' not found in region eu-west-1\n")
