"""A failed rollout's diagnosis travels into the failure notifications (as the message's free text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsctl.engine.outcome import Status
from opsctl.engine.runbook import StepResult
from opsctl.runs.announce import announce_end
from tests.support.context import make_ctx

WHY = "why: task 0a1b2c3d stopped: CannotPullContainerError: not found"


def failed_step(detail: dict[str, Any]) -> StepResult:
    return StepResult("deploy", "Roll out", Status.FAILED, "ECS rollout failed", 1.0, "rollback", None, detail)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("rolled_back", [("deploy.failed", WHY), ("rollback.succeeded", None)]),
        ("failed", [("deploy.failed", WHY)]),
        ("rollback_failed", [("deploy.failed", WHY), ("rollback.failed", WHY)]),
    ],
)
def test_failure_messages_carry_the_diagnosis_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: str, expected: list[tuple[str, str | None]]
) -> None:
    sent: list[tuple[str, str | None]] = []
    monkeypatch.setattr("opsctl.notify.configured_channels", lambda _ctx: ["webhook"])
    monkeypatch.setattr("opsctl.notify.send", lambda _ctx, event, _data, text=None: sent.append((event, text)))
    ctx = make_ctx(tmp_path)

    announce_end(ctx, "deploy", status, "summary", failed_step({"diagnosis": {"text": WHY}}))

    assert sent == expected


def test_a_failure_without_diagnosis_sends_no_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, str | None]] = []
    monkeypatch.setattr("opsctl.notify.configured_channels", lambda _ctx: ["webhook"])
    monkeypatch.setattr("opsctl.notify.send", lambda _ctx, event, _data, text=None: sent.append((event, text)))

    announce_end(make_ctx(tmp_path), "deploy", "failed", "summary", failed_step({}))

    assert sent == [("deploy.failed", None)]
