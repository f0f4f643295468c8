"""Helpers for the onboarding tests: a real project in tmp_path, real audit logs, no fake of opsctl's parts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opsctl.workspace import Workspace
from tests.support.context import write_config

ALICE = "alice@example.com"
BOB = "bob@example.com"


def project(tmp_path: Path) -> Path:
    """A valid opsctl.yaml (staging on ECS, production on Fly) in ``tmp_path``."""
    return write_config(tmp_path)


def workspace(tmp_path: Path, actor: str = ALICE) -> Workspace:
    """A fresh Workspace over the project in ``tmp_path``: a new one is what a new process would make."""
    path = tmp_path / "opsctl.yaml"
    if not path.exists():
        project(tmp_path)
    return Workspace.load(str(path), actor=actor)


def record_deploy(
    ws: Workspace,
    *,
    env: str = "staging",
    status: str = "succeeded",
    dry_run: bool = False,
    supervisor: str | None = None,
    image: str = "hvb:1.8.0",
) -> str:
    """The run-level events `opsctl deploy` writes (see opsctl.runs.run), as ``ws.actor``."""
    run = ws.new_run_id()
    journal = ws.journal(run, "deploy", env, change_type="normal")
    params: dict[str, Any] = {
        "image": image,
        "timeout": 900.0,
        "reason": None,
        "approved_by": [],
        "supervisor": supervisor,
        "strategy": None,
    }
    journal.event("run", "started", params=params, digest="0" * 64, dry_run=dry_run)
    journal.event("plan", "passed", kind="step", summary="plan")
    release = {"id": "hvb:2", "image": image}
    journal.event(
        "run",
        status,
        summary=f"deploy {status}",
        release_before={"id": "hvb:1", "image": "hvb:1.7.0"},
        release_after=release,
        attempted=release,
        verified=status == "succeeded" and not dry_run,
    )
    return run
