"""Check a command line against the Typer app without running it: each level's options must be its own.

``opsctl --json deploy staging --image X --yes`` becomes
``opsctl --json deploy --help staging --image X --yes``: click parses every
token of a level (an unknown option fails) before the eager ``--help`` stops
it, and ``--help`` right after the command path can never be taken as an
option's value. Nothing is deployed, no config is read.
"""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from opsctl.cli.app import app
from opsctl.cli.application import Application

ROOT = typer.main.get_command(app)


def _takes_value(command: object, token: str) -> bool:
    for param in getattr(command, "params", []):
        if param.param_type_name == "option" and token in (*param.opts, *param.secondary_opts):
            return not param.is_flag and not getattr(param, "count", False)
    return False


def command_path(args: list[str]) -> tuple[list[str], int]:
    """The command names in ``args`` (``["audit", "verify"]``) and the index just after them (or an unknown one)."""
    command: object = ROOT
    path: list[str] = []
    index = 0
    while hasattr(command, "list_commands") and index < len(args):
        token = args[index]
        if token.startswith("-"):
            index += 2 if "=" not in token and _takes_value(command, token) else 1
            continue
        context = typer.Context(command, info_name="opsctl")  # type: ignore[arg-type]
        sub = command.get_command(context, token)  # type: ignore[attr-defined]
        if sub is None:  # an unknown command: put --help after it, so that the group says so
            index += 1
            break
        path.append(token)
        command = sub
        index += 1
    return path, index


def check(args: list[str]) -> tuple[int, str]:
    """Exit code and output of parsing ``args`` (the words after ``opsctl``) with ``--help`` added."""
    _, end = command_path(args)
    probe = [*args[:end], "--help", *args[end:]]
    done = CliRunner().invoke(app, probe, obj=Application(interactive=False, no_color=True))
    return done.exit_code, done.output
