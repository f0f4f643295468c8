"""Global options work after the command too: `opsctl deploy staging --image X --yes --json` (CI's habit)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from opsctl.cli.app import app, hoist_global_options
from opsctl.cli.application import Application
from tests.support.context import write_config


def test_global_flags_and_config_move_to_the_front() -> None:
    argv = ["deploy", "staging", "--image", "hvb:1.8.0", "--yes", "--json", "--config", "x.yaml", "--debug"]
    assert hoist_global_options(argv) == [
        "--json",
        "--config",
        "x.yaml",
        "--debug",
        "deploy",
        "staging",
        "--image",
        "hvb:1.8.0",
        "--yes",
    ]
    assert hoist_global_options(["audit", "verify", "--config=a.yaml"]) == ["--config=a.yaml", "audit", "verify"]


def test_nothing_after_a_double_dash_moves() -> None:
    argv = ["checklist", "run", "x", "--set", "a=b", "--", "--json"]
    assert hoist_global_options(argv) == argv


def test_json_after_the_command_gives_json(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    done = CliRunner().invoke(
        app, ["config", "check", "--config", str(config), "--json"], obj=Application(interactive=False)
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["service"] == "hotel-voice-bot"
