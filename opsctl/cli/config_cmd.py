"""``opsctl config check`` and ``opsctl config schema``."""

from __future__ import annotations

from typing import Any

import typer

from opsctl.cli.common import app_of
from opsctl.cli.output import json_document

app = typer.Typer(help="Check opsctl.yaml and print its JSON Schema.", no_args_is_help=True)


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate opsctl.yaml and summarise its environments (exit 0 valid, 2 invalid).

    \b
    Example:
      opsctl config check
      opsctl --config deploy/opsctl.yaml config check
    """
    application = app_of(ctx)
    config = application.workspace().config
    rows: list[dict[str, Any]] = []
    for name, env in config.environments.items():
        platform = env.platform
        target = (
            f"ecs {platform.cluster}/{platform.service} ({platform.region or 'default region'})"
            if platform.kind == "ecs"
            else f"fly app {platform.app} ({platform.strategy})"
            if platform.kind == "fly"
            else f"kubernetes {platform.namespace}/{platform.deployment} ({platform.context or 'current context'})"
        )
        rows.append(
            {
                "environment": name,
                "platform": target,
                "protected": env.protected,
                "health": env.health.base_url if env.health else None,
                "requires": env.requires.model_dump(exclude_defaults=True),
                "freeze_windows": len(env.freeze),
            }
        )
    out = application.output
    if out.json:
        out.json_document({"config": str(config.path), "service": config.service, "environments": rows})
        return
    from rich.table import Table

    table = Table(title=f"{config.service} — {config.path}", title_justify="left")
    for column in ("environment", "platform", "protected", "health", "requires"):
        table.add_column(column)
    for row in rows:
        requires = ", ".join(f"{k}={v}" for k, v in row["requires"].items()) or "-"
        table.add_row(
            str(row["environment"]),
            str(row["platform"]),
            "yes" if row["protected"] else "no",
            str(row["health"] or "-"),
            requires,
        )
    out.show(table)
    out.show(f"[green]✓[/] config is valid: {len(rows)} environment(s)")


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of opsctl.yaml (for editor validation).

    \b
    Example:
      opsctl config schema > opsctl.schema.json
    """
    from opsctl.config import config_schema

    json_document(config_schema())  # JSON whatever the mode: it is the file editors read
