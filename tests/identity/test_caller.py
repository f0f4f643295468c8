"""The STS caller identity: looked up in the background from the start of a run, joined at the first event."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.identity import caller
from opsctl.identity.caller import CallerIdentities
from opsctl.workspace import Workspace
from tests.support import moto_server as aws_support
from tests.support.moto_server import MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws

KEY = ("eu-west-1", "http://127.0.0.1:1", None)


class SlowSts:
    """Stands in for :func:`caller.caller_arn`: counts calls, takes ``delay`` seconds, answers ``arn``."""

    def __init__(self, delay: float = 0.0, arn: str | None = "arn:aws:iam::123456789012:user/alice") -> None:
        self.delay = delay
        self.arn = arn
        self.calls: list[tuple[Any, ...]] = []
        self.threads: list[str] = []

    def __call__(self, *key: Any) -> str | None:
        self.calls.append(key)
        self.threads.append(threading.current_thread().name)
        time.sleep(self.delay)
        return self.arn


def test_start_looks_up_in_the_background_and_arn_joins_it(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    began = threading.Event()

    def sts(*key: Any) -> str:
        began.set()
        assert release.wait(10)  # AWS answers only when the test says so
        return f"arn:aws:iam::123456789012:user/alice ({threading.current_thread().name})"

    monkeypatch.setattr(caller, "caller_arn", sts)
    identities = CallerIdentities()
    identities.start(*KEY)  # returns while the lookup is still waiting for AWS
    assert began.wait(10)
    answer: list[str | None] = []
    joiner = threading.Thread(target=lambda: answer.append(identities.arn(*KEY)))
    joiner.start()
    joiner.join(0.2)
    assert joiner.is_alive()  # the first event waits for the lookup under way
    assert answer == []
    release.set()
    joiner.join(10)
    assert answer == ["arn:aws:iam::123456789012:user/alice (opsctl-caller-arn)"]
    assert identities.arn(*KEY) == answer[0]


def test_starting_twice_or_after_the_answer_asks_once(monkeypatch: pytest.MonkeyPatch) -> None:
    sts = SlowSts(delay=0.05)
    monkeypatch.setattr(caller, "caller_arn", sts)
    identities = CallerIdentities()
    identities.start(*KEY)
    identities.start(*KEY)
    assert identities.arn(*KEY) is not None
    identities.start(*KEY)
    assert identities.arn(*KEY) is not None
    assert sts.calls == [KEY]


def test_without_start_the_lookup_is_made_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    sts = SlowSts()
    monkeypatch.setattr(caller, "caller_arn", sts)
    identities = CallerIdentities()
    assert identities.arn(*KEY) == "arn:aws:iam::123456789012:user/alice"
    assert sts.threads == [threading.current_thread().name]


def test_a_failed_background_lookup_means_no_arn_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    sts = SlowSts(arn=None)
    monkeypatch.setattr(caller, "caller_arn", sts)
    identities = CallerIdentities()
    identities.start(*KEY)
    assert identities.arn(*KEY) is None
    assert identities.arn(*KEY) is None
    assert sts.calls == [KEY]


def test_no_thread_to_be_had_falls_back_to_asking_when_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    sts = SlowSts()
    monkeypatch.setattr(caller, "caller_arn", sts)

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(caller._Lookup, "start", refuse)
    identities = CallerIdentities()
    identities.start(*KEY)
    assert identities.arn(*KEY) == "arn:aws:iam::123456789012:user/alice"
    assert sts.threads == [threading.current_thread().name]


def test_concurrent_first_events_share_one_background_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    sts = SlowSts(delay=0.1)
    monkeypatch.setattr(caller, "caller_arn", sts)
    identities = CallerIdentities()
    identities.start(*KEY)
    answers: list[str | None] = []
    threads = [threading.Thread(target=lambda: answers.append(identities.arn(*KEY))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["arn:aws:iam::123456789012:user/alice"] * 8
    assert sts.calls == [KEY]


def _workspace(tmp_path: Path, platform: dict[str, Any]) -> Workspace:
    config = {"service": "hvb", "environments": {"staging": {"platform": platform}}}
    (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(config))
    return Workspace.load(str(tmp_path / "opsctl.yaml"), actor="alice@example.com")


def test_identify_early_asks_moto_s_sts_before_the_first_event(
    tmp_path: Path, aws: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = caller.caller_arn
    asked: list[tuple[Any, ...]] = []

    def spy(*key: Any) -> str | None:
        asked.append((*key, threading.current_thread().name, threading.current_thread().daemon))
        return real(*key)

    monkeypatch.setattr(caller, "caller_arn", spy)
    platform = {"kind": "ecs", "region": "eu-west-1", "cluster": "c", "service": "s", "container": "bot"}
    platform["endpoint_url"] = aws.endpoint_url
    ws = _workspace(tmp_path, platform)
    ws.identify_early("staging")
    event = ws.journal("r1", "deploy", "staging").event("run", "started")
    assert event["caller_arn"].startswith("arn:aws:")
    assert asked == [("eu-west-1", aws.endpoint_url, None, "opsctl-caller-arn", True)]


def test_identify_early_does_nothing_off_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sts = SlowSts()
    monkeypatch.setattr(caller, "caller_arn", sts)
    ws = _workspace(tmp_path, {"kind": "fly", "app": "hvb"})
    ws.identify_early("staging")
    ws.identify_early("unknown")
    assert "caller_arn" not in ws.journal("r1", "deploy", "staging").event("run", "started")
    assert sts.calls == []
