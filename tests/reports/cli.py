"""Run opsctl in-process against a project in tmp_path, at the generated history's NOW."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from opsctl.cli.app import app
from opsctl.cli.application import Application
from tests.reports.history import NOW
from tests.support.clirunner import Result


def run(config: Path, *args: str) -> Result:
    application = Application(
        config_path=str(config), interactive=False, no_color=True, actor="lead@example.com", clock=lambda: NOW
    )
    done = CliRunner().invoke(app, list(args), obj=application)
    assert "Traceback" not in done.stdout + done.stderr
    return Result(done.exit_code, done.stdout, done.stderr)


def events(config: Path, step: str) -> list[dict[str, Any]]:
    log = config.parent / ".opsctl" / "audit.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return [e for e in map(json.loads, lines) if e.get("step") == step]
