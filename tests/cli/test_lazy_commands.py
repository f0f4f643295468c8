"""The root's commands are imported only when needed, and the root listing cannot drift from them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.core import TyperCommand
from typer.testing import CliRunner

from opsctl.cli.app import OpsctlGroup, app
from opsctl.cli.lazy import COMMANDS, LazyCommand, LazyCommands, build

# Runs `python -m opsctl ARGS` and, on the way out, names the command modules it imported.
# (Not `-X importtime`: its log goes to sys.stderr, which the CLI's output may have swapped by then.)
_RUNNER = """
import atexit, runpy, sys
def report():
    loaded = sorted(m for m in sys.modules if m.startswith("opsctl.cli.") and m.endswith("_cmd"))
    sys.__stdout__.write("CMD-MODULES " + ",".join(loaded) + "\\n")
atexit.register(report)
sys.argv = ["opsctl", *sys.argv[1:]]
runpy.run_module("opsctl", run_name="__main__", alter_sys=True)
"""


def _python(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("OPSCTL_CONFIG", "NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=environ, check=False
    )


def _imported_cmd_modules(stdout: str) -> list[str]:
    last = stdout.splitlines()[-1]
    assert last.startswith("CMD-MODULES ")
    return [name for name in last.removeprefix("CMD-MODULES ").split(",") if name]


def _root() -> OpsctlGroup:
    root = typer.main.get_command(app)
    assert isinstance(root, OpsctlGroup)
    return root


def _root_help(root: OpsctlGroup) -> str:
    with typer.Context(root, info_name="opsctl", max_content_width=100, terminal_width=100) as ctx:
        return root.get_help(ctx)


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    done = _python(["-c", _RUNNER, "--help"], tmp_path)
    assert done.returncode == 0
    assert "Commands:" in done.stdout
    assert "  deploy     Deploy an image" in done.stdout  # listed from the table
    assert _imported_cmd_modules(done.stdout) == []


def test_running_a_command_imports_only_its_module(tmp_path: Path) -> None:
    done = _python(["-c", _RUNNER, "lock", "--help"], tmp_path)
    assert done.returncode == 0
    assert "See or break an environment's deploy lock." in done.stdout
    assert _imported_cmd_modules(done.stdout) == ["opsctl.cli.lock_cmd"]


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda e: e.name)
def test_the_listing_help_is_the_commands_own(entry: LazyCommand) -> None:
    command = _root().get_command(typer.Context(_root()), entry.name)
    assert command is not None
    stand_in = TyperCommand(name=entry.name, help=entry.help)
    for limit in (40, 45, 80, 1000):  # narrow and wide terminals shorten alike
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit)


def test_the_table_names_every_command_its_modules_register_in_order() -> None:
    built: list[str] = []
    for module in dict.fromkeys(entry.module for entry in COMMANDS):
        built.extend(build(next(e for e in COMMANDS if e.module == module)))
    assert built == [entry.name for entry in COMMANDS]


def test_the_listing_is_the_same_before_and_after_loading() -> None:
    lazy_root = _root()
    before = _root_help(lazy_root)
    loaded_root = _root()
    context = typer.Context(loaded_root)
    names = loaded_root.list_commands(context)
    assert all(loaded_root.get_command(context, name) is not None for name in names)
    assert isinstance(lazy_root.commands, LazyCommands)
    assert not lazy_root.commands.is_loaded("deploy")  # rendering the help built nothing
    assert _root_help(loaded_root) == before
    assert names == ["version", *(entry.name for entry in COMMANDS)]


def test_membership_and_order_need_no_import() -> None:
    commands = _root().commands
    assert isinstance(commands, LazyCommands)
    assert "report" in commands
    assert "frobnicate" not in commands
    assert list(commands)[:3] == ["version", "deploy", "rollback"]
    assert len(commands) == 1 + len(COMMANDS)
    assert not commands.is_loaded("report")
    assert commands.is_loaded("version")


def test_loading_one_command_builds_its_siblings_once() -> None:
    commands = _root().commands
    assert isinstance(commands, LazyCommands)
    deploy = commands["deploy"]
    assert deploy.name == "deploy"
    assert commands.is_loaded("rollback")  # registered by the same module
    assert not commands.is_loaded("status")
    assert commands["deploy"] is deploy


def test_an_unknown_name_is_not_a_command() -> None:
    root = _root()
    assert root.get_command(typer.Context(root), "frobnicate") is None
    with pytest.raises(KeyError):
        root.commands["frobnicate"]
    with pytest.raises(KeyError):
        del root.commands["frobnicate"]


def test_added_and_removed_commands_keep_the_order() -> None:
    root = _root()
    extra = TyperCommand(name="extra", help="An extra command.")
    root.add_command(extra)
    assert list(root.commands)[-1] == "extra"
    assert root.commands["extra"] is extra
    del root.commands["status"]
    assert "status" not in root.commands
    assert "status" not in root.list_commands(typer.Context(root))
    assert root.get_command(typer.Context(root), "status") is None


def test_an_unknown_command_still_suggests_lazy_ones() -> None:
    done = CliRunner().invoke(app, ["reprot"])
    assert done.exit_code == 2
    assert done.output.splitlines() == ["error: No such command 'reprot'. Did you mean 'report'? (see 'opsctl --help')"]


def test_completion_lists_lazy_commands(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("OPSCTL_CONFIG",)}
    environ.update({"_OPSCTL_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "opsctl loc"})
    script = "import sys; from opsctl.cli.app import run; sys.argv[0] = 'opsctl'; run()"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout == "_arguments '*: :((\"lock\":\"See or break an environment''s deploy lock.\"))'\n"
