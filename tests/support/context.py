"""Build real workspaces and run contexts for tests (a real config file and audit log in tmp_path)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from opsctl.engine.context import RunContext
from opsctl.workspace import Workspace

FIXED_NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def base_config(**overrides: Any) -> dict[str, Any]:
    """A valid opsctl.yaml as a dict: staging on ECS, production on Fly."""
    config: dict[str, Any] = {
        "service": "hotel-voice-bot",
        "environments": {
            "staging": {
                "platform": {
                    "kind": "ecs",
                    "region": "eu-west-1",
                    "cluster": "hvb-staging",
                    "service": "hotel-voice-bot",
                    "container": "bot",
                },
                "health": {"base_url": "http://127.0.0.1:9"},
            },
            "production": {
                "protected": True,
                "platform": {"kind": "fly", "app": "hvb", "api_url": "http://127.0.0.1:9"},
                "health": {"base_url": "http://127.0.0.1:9"},
            },
        },
    }
    config.update(overrides)
    return config


def write_config(tmp_path: Path, config: dict[str, Any] | None = None) -> Path:
    path = tmp_path / "opsctl.yaml"
    path.write_text(yaml.safe_dump(config or base_config(), sort_keys=False))
    return path


def make_workspace(
    tmp_path: Path,
    config: dict[str, Any] | None = None,
    *,
    actor: str = "tester@example.com",
    clock: Callable[[], datetime] | None = None,
) -> Workspace:
    path = write_config(tmp_path, config)
    return Workspace.load(str(path), actor=actor, clock=clock or (lambda: datetime.now(UTC)))


def make_ctx(
    tmp_path: Path,
    config: dict[str, Any] | None = None,
    *,
    env: str | None = "staging",
    runbook: str = "test",
    **kwargs: Any,
) -> RunContext:
    """A RunContext over a real config file and audit log in ``tmp_path``."""
    ws = make_workspace(tmp_path, config)
    journal = ws.journal(ws.new_run_id(), runbook, env)
    return ws.context(journal, env, **kwargs)
