"""The shared helpers that start test servers: a server binary that dies is reported at once, with its log."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.support.cli_env import subprocess_env
from tests.support.servers import free_port, server_process, wait_until


def test_a_server_that_exits_instead_of_answering_fails_at_once_with_its_log(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import sys; print('bad flag --web.listen'); sys.exit(3)"]
    started = time.monotonic()
    with (
        pytest.raises(AssertionError) as caught,
        server_process(argv, tmp_path / "s.log", ready_url=f"http://127.0.0.1:{free_port()}/", what="Thing"),
    ):
        pass
    assert str(caught.value) == "Thing exited with 3: bad flag --web.listen\n"
    assert time.monotonic() - started < 10


def test_a_server_is_stopped_when_the_block_ends(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)]
    with server_process(argv, tmp_path / "s.log", ready_url=f"http://127.0.0.1:{port}/", what="http.server") as proc:
        assert proc.poll() is None
    assert proc.poll() is not None


def test_wait_until_names_what_it_waited_for() -> None:
    with pytest.raises(AssertionError) as caught:
        wait_until(lambda: False, "the moon", timeout=0.2)
    assert str(caught.value) == "timed out waiting for the moon"


def test_a_cli_subprocess_gets_none_of_the_callers_opsctl_github_or_proxy_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OPSCTL_CONFIG", "GITHUB_TOKEN", "HTTPS_PROXY", "KUBECONFIG"):
        monkeypatch.setenv(name, "from-the-shell")
    env = subprocess_env("dev@example.com", drop=("KUBECONFIG",), AWS_ENDPOINT_URL="http://127.0.0.1:5000")
    assert not {"OPSCTL_CONFIG", "GITHUB_TOKEN", "HTTPS_PROXY", "KUBECONFIG"} & env.keys()
    assert env["OPSCTL_ACTOR"] == "dev@example.com"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert (env["NO_COLOR"], env["NO_PROXY"]) == ("1", "127.0.0.1,localhost")
