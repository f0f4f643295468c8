"""Notifications against real misbehaving receivers on 127.0.0.1: capped answers, deadlines, redact-then-cut."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsctl.notify import send
from opsctl.notify.deliver import RetryPolicy
from tests.notify.support import ROUTING_KEY, Sleeps, assert_no_secret, audit_text, fast_policy, notify_ctx
from tests.support.hostile import HostileServer

SLACK = 1.0


@pytest.fixture
def receiver() -> Iterator[HostileServer]:
    with HostileServer(drip=0.2) as server:
        yield server


def test_a_key_echoed_past_the_excerpt_cut_does_not_leak_in_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: HostileServer
) -> None:
    # The key starts at offset 150 of the error body and the excerpt keeps 160 characters:
    # cut first, and its first 10 characters would be all that is left for the redactor to miss.
    error = "E" * 150 + ROUTING_KEY + " is not a valid routing key for this service; check the integration"
    receiver.answer("/v2/enqueue", status=400, body=error)
    notify = {"pagerduty": {"routing_key_env": "HVB_PD_KEY", "api_url": receiver.base}}
    ctx = notify_ctx(tmp_path, monkeypatch, notify=notify)

    results = send(ctx, "rollback.failed", {"summary": "ECS service did not stabilise"}, policy=fast_policy(Sleeps()))

    assert [r.status for r in results] == ["warned"]
    assert results[0].summary == ("PagerDuty alert event refused rollback.failed: HTTP 400: " + "E" * 150 + "*** is...")
    log = audit_text(ctx)
    for text in (results[0].summary, log):
        assert ROUTING_KEY[:6] not in text
    assert_no_secret(log)


def test_an_endless_answer_to_an_accepted_post_is_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: HostileServer
) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={"webhook": {"url_env": "HVB_WEBHOOK"}})
    monkeypatch.setenv("HVB_WEBHOOK", receiver.url("/endless"))
    started = time.monotonic()

    results = send(ctx, "deploy.started", policy=fast_policy(Sleeps()))

    assert time.monotonic() - started < 3.0
    assert [(r.status, r.summary, r.http_status) for r in results] == [
        ("sent", "the webhook accepted deploy.started (HTTP 200; response too large (over 1 MiB))", 200)
    ]


def test_a_receiver_that_drips_its_answer_is_cut_off_by_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: HostileServer
) -> None:
    ctx = notify_ctx(tmp_path, monkeypatch, notify={"webhook": {"url_env": "HVB_WEBHOOK"}})
    monkeypatch.setenv("HVB_WEBHOOK", receiver.url("/drip"))
    # A byte every 0.2s: the 0.5s read timeout never trips; the 1s total deadline does.
    policy = RetryPolicy(attempts=1, connect_timeout=0.5, read_timeout=0.5, sleep=Sleeps())
    started = time.monotonic()

    results = send(ctx, "deploy.started", policy=policy)

    assert time.monotonic() - started < 1.0 + SLACK
    assert [(r.status, r.summary) for r in results] == [
        ("warned", "could not deliver deploy.started to the webhook after 1 attempt(s): no answer within the timeout")
    ]
