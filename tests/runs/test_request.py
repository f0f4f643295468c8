"""A run's request is validated in the core, journaled as before, and rebuilt from the journal on resume.

The platform is ECS on the moto server; the runbooks are the project's own
(rollout only, plus a gate and a step that renders templates).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.engine.loader import load_runbook
from opsctl.engine.request import RunRequest
from opsctl.errors import BadInput
from opsctl.runs import RunOptions, execute, resume
from opsctl.workspace import Workspace
from tests.support import moto_server as aws_support
from tests.support.moto_server import EcsService
from tests.support.util import py

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service

GATE = """title: Sign-off
items:
  - {id: sign-off, title: A person signed off, uses: manual}
"""
SEEN = "{{ params.image }} {{ params.timeout }} {{ previous.image }} {{ run.state.attempted.image }}"


def _runbook(steps: list[dict[str, Any]], change_type: str = "standard") -> str:
    return yaml.safe_dump({"title": "Deploy", "change_type": change_type, "steps": steps}, sort_keys=False)


def _workspace(tmp_path: Path, service: EcsService | None = None) -> Workspace:
    """A project whose deploy plans, passes a manual gate, rolls out and records what templates see."""
    seen = py("import pathlib, sys; pathlib.Path('seen.txt').write_text(sys.argv[1])", SEEN)
    deploy = [
        {"id": "plan", "title": "Plan", "uses": "platform.plan"},
        {"id": "gate", "title": "Gate", "checklist": "sign-off"},
        {"id": "deploy", "title": "Roll out", "uses": "platform.deploy"},
        {"id": "seen", "title": "Templates", "uses": "command", "with": {"argv": seen}},
    ]
    write = {
        "runbooks/deploy.yaml": _runbook(deploy),
        "runbooks/hot-patch.yaml": _runbook(deploy, change_type="emergency"),
        "checklists/sign-off.yaml": GATE,
    }
    for name, text in write.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    platform = service.platform_config(poll_interval="0.1s") if service else {"kind": "fly", "app": "hvb"}
    config = {"service": "hvb", "environments": {"staging": {"platform": platform}}}
    (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(config))
    return Workspace.load(str(tmp_path / "opsctl.yaml"), actor="dev@example.com")


def _events(ws: Workspace) -> list[dict[str, Any]]:
    path = ws.audit.path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize(
    ("runbook", "params", "message"),
    [
        (
            "deploy",
            {"image": "hvb:1.8.0é"},
            "'hvb:1.8.0é' is not a valid image reference; use name:tag or name@sha256:digest, like hvb:1.8.0",
        ),
        (
            "deploy",
            {"image": f"hvb@sha512:{'a' * 64}"},
            f"'hvb@sha512:{'a' * 64}' is not a valid image reference; "
            "use name:tag or name@sha256:digest, like hvb:1.8.0",
        ),
        ("deploy", {"image": "hvb:1.8.0", "timeout": "fast"}, "--timeout fast: must be a duration like 30s or 5m"),
        (
            "hot-patch",
            {"image": "hvb:1.8.1"},
            "a hot-patch needs an incident: pass --incident INC-N (see `opsctl incident list`), "
            "or --incident new --severity P1 --title TEXT",
        ),
    ],
    ids=["non-ascii-tag", "short-sha512", "bad-timeout", "emergency-without-incident"],
)
def test_a_library_caller_gets_bad_input_before_anything_runs(
    tmp_path: Path, runbook: str, params: dict[str, Any], message: str
) -> None:
    ws = _workspace(tmp_path)

    with pytest.raises(BadInput) as raised:
        execute(ws, runbook, "staging", params, RunOptions())

    assert str(raised.value) == message
    assert _events(ws) == []


def test_params_are_journaled_as_before_and_templates_see_them(tmp_path: Path, ecs_service: EcsService) -> None:
    ws = _workspace(tmp_path, ecs_service)
    request = RunRequest.build(image=" hvb:1.8.0 ", timeout="30s", reason="faster replies", confirmations=["sign-off"])

    result = execute(ws, "deploy", "staging", request, RunOptions())

    assert result.status == "succeeded", result.summary
    events = _events(ws)
    started = next(e for e in events if e["step"] == "run" and e["status"] == "started")
    assert started["params"] == {"image": "hvb:1.8.0", "timeout": 30.0, "reason": "faster replies"}
    gate = next(e for e in events if e["step"] == "gate/sign-off" and e["status"] == "passed")
    assert gate["summary"] == "confirmed with --confirm sign-off by dev@example.com"
    deployed = next(e for e in events if e["step"] == "deploy" and e["status"] == "passed")
    assert list(deployed["state"]) == ["previous", "plan", "attempted", "release"]
    assert deployed["state"]["release"]["image"] == "hvb:1.8.0"
    assert result.as_dict()["release_before"] == deployed["state"]["previous"]
    assert result.as_dict()["release_after"] == deployed["state"]["release"]
    assert (tmp_path / "seen.txt").read_text() == "hvb:1.8.0 30.0 hvb:1.7.0 hvb:1.8.0"


def test_resume_rebuilds_the_request_and_the_state_from_the_journal(tmp_path: Path, ecs_service: EcsService) -> None:
    ws = _workspace(tmp_path, ecs_service)
    loaded = load_runbook("deploy", tmp_path)
    previous = {"id": "hvb:1", "image": "hvb:1.7.0", "tag": "1.7.0", "created_at": None}
    # A run interrupted after its gate: the journal is all that is left of it.
    journal = ws.journal("r20261127-100000-abcdef", "deploy", "staging", change_type="standard")
    journal.event("run", "started", params={"image": "hvb:1.8.0", "timeout": 30.0}, digest=loaded.digest, dry_run=False)
    for step in ("plan", "gate"):
        journal.event(step, "passed", kind="step", title=step, state={"previous": previous})
    journal.event("run", "interrupted")

    result = resume(ws, journal.run, RunOptions())

    assert result.status == "succeeded", result.summary
    assert [s.id for s in result.steps] == ["deploy", "seen"]
    assert result.as_dict()["release_before"] == previous
    assert result.state.release is not None
    assert result.state.release["image"] == "hvb:1.8.0"
    assert (tmp_path / "seen.txt").read_text() == "hvb:1.8.0 30.0 hvb:1.7.0 hvb:1.8.0"


def test_resume_refuses_a_journaled_image_that_is_no_reference(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    loaded = load_runbook("deploy", tmp_path)
    journal = ws.journal("r20261127-100000-abcdef", "deploy", "staging", change_type="standard")
    journal.event("run", "started", params={"image": "HVB:1.8.0"}, digest=loaded.digest, dry_run=False)

    with pytest.raises(BadInput) as raised:
        resume(ws, journal.run, RunOptions())

    assert str(raised.value) == (
        "'HVB:1.8.0' is not a valid image reference; use name:tag or name@sha256:digest, like hvb:1.8.0"
    )
