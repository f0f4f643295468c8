"""``opsctl changes ENV``: the commits a deploy would bring, as deploy notes."""

from __future__ import annotations

import typer

from opsctl.cli.common import app_of
from opsctl.cli.completion import complete_env


def changes(
    ctx: typer.Context,
    env: str = typer.Argument(..., autocompletion=complete_env, help="Environment, e.g. production."),
    image: str | None = typer.Option(None, "--image", "-i", help="Compare with this image's commit instead of HEAD."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many commits."),
) -> None:
    """Commits between the release running in ENV and HEAD (or --image), newest first.

    The running image's tag must name a git tag or commit (hvb:1.8.0 -> v1.8.0 / 1.8.0; hvb:sha-abc1234).

    \b
    Examples:
      opsctl changes production
      opsctl changes production --image hvb:1.9.0
    """
    from opsctl.status.changes import pending_changes

    application = app_of(ctx)
    found = pending_changes(application.workspace(), env, image, limit=limit)
    if application.json:
        application.output.json_document(found.as_dict())
        return
    from rich.markup import escape

    out = application.output
    out.show(
        f"[bold]{env}[/] runs {escape(found.current.image)}; {len(found.commits)} commit(s) up to "
        f"{escape(found.target)}:"
    )
    for commit in found.commits:
        out.show(
            f"  [yellow]{commit.short}[/] {escape(commit.subject)} [dim]({escape(commit.author)}, "
            f"{commit.date:%Y-%m-%d})[/]"
        )


def register(app: typer.Typer) -> None:
    app.command()(changes)
