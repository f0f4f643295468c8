"""Small helpers shared by command modules (their output goes through opsctl.cli.output)."""

from __future__ import annotations

import typer

from opsctl.cli.application import Application
from opsctl.errors import BadInput


def app_of(ctx: typer.Context) -> Application:
    """The invocation's Application, made by the root callback (a fresh one outside the CLI)."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Application) else Application()


def parse_sets(values: list[str] | None) -> dict[str, str]:
    """``--set key=value`` pairs as a dict."""
    params: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set takes key=value, got '{value}'")
        params[key.strip()] = rest
    return params
