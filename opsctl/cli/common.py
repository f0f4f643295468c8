"""Small helpers shared by command modules."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from opsctl.cli.application import Application
from opsctl.errors import BadInput


def app_of(ctx: typer.Context) -> Application:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Application) else Application()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def parse_sets(values: list[str] | None) -> dict[str, str]:
    """``--set key=value`` pairs as a dict."""
    params: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set takes key=value, got '{value}'")
        params[key.strip()] = rest
    return params
