"""Shared setup for the notification tests: a context with all channels, fake secrets, no waiting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsctl.engine.context import RunContext
from opsctl.notify.deliver import RetryPolicy
from tests.support.context import FIXED_NOW, base_config, make_ctx

# Shapes that the generic redaction patterns do not know: only opsctl.notify registering them hides them.
SLACK_URL = "https://hooks.example.test/services/T0001/B0001/s3cr3tS1ackPath"
WEBHOOK_URL = "https://receiver.example.test/opsctl/wh-s3cr3t-token-123"
ROUTING_KEY = "R0uTiNgKeY0123456789abcdef012345"
PD_API = "https://events.pd.example.test"
SECRETS = (SLACK_URL, "s3cr3tS1ackPath", WEBHOOK_URL, "wh-s3cr3t-token-123", ROUTING_KEY)

NOTIFY = {
    "slack": {"webhook_env": "HVB_SLACK_HOOK"},
    "pagerduty": {"routing_key_env": "HVB_PD_KEY", "api_url": PD_API},
    "webhook": {"url_env": "HVB_WEBHOOK"},
}


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fast_policy(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(attempts=3, backoff=0.5, max_delay=2.0, budget=5.0, sleep=sleeps)


def notify_ctx(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    notify: dict[str, Any] | None = None,
    env: str = "staging",
    secrets: bool = True,
    **kwargs: Any,
) -> RunContext:
    """A context whose config has the given notify: section; secrets are exported after it is built.

    Exporting them afterwards means the workspace redactor does not know them
    yet: only opsctl.notify registering them can keep them out of the log.
    """
    monkeypatch.delenv("HVB_SLACK_HOOK", raising=False)
    monkeypatch.delenv("HVB_PD_KEY", raising=False)
    monkeypatch.delenv("HVB_WEBHOOK", raising=False)
    ctx = make_ctx(tmp_path, base_config(notify=NOTIFY if notify is None else notify), env=env, **kwargs)
    ctx.clock = lambda: FIXED_NOW
    if secrets:
        monkeypatch.setenv("HVB_SLACK_HOOK", SLACK_URL)
        monkeypatch.setenv("HVB_PD_KEY", ROUTING_KEY)
        monkeypatch.setenv("HVB_WEBHOOK", WEBHOOK_URL)
    return ctx


def audit_text(ctx: RunContext) -> str:
    return (ctx.state_dir / "audit.jsonl").read_text()


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
