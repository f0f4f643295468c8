"""``opsctl changes ENV``: the commits a deploy would bring, as deploy notes."""

from __future__ import annotations

import typer

from opsctl.cli.common import app_of, print_json


def changes(
    ctx: typer.Context,
    env: str = typer.Argument(..., help="Environment, e.g. production."),
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
    from opsctl.actions.platform import release_dict
    from opsctl.git.changes import commits_between
    from opsctl.values.imageref import validate_image

    application = app_of(ctx)
    ws = application.workspace()
    ws.config.environment(env)
    target = validate_image(image) if image else "HEAD"
    run_ctx = ws.context(ws.journal("changes", "changes", env), env)
    current = run_ctx.platform().current_release()
    commits = commits_between(ws.config.project_dir, current.image, target, limit=limit)
    if application.json:
        print_json(
            {
                "env": env,
                "from": release_dict(current),
                "to": target,
                "commits": [
                    {"sha": c.sha, "subject": c.subject, "author": c.author, "date": c.date.isoformat()}
                    for c in commits
                ],
            }
        )
        return
    from rich.markup import escape

    console = application.console
    console.print(f"[bold]{env}[/] runs {escape(current.image)}; {len(commits)} commit(s) up to {escape(target)}:")
    for commit in commits:
        console.print(
            f"  [yellow]{commit.short}[/] {escape(commit.subject)} [dim]({escape(commit.author)}, "
            f"{commit.date:%Y-%m-%d})[/]"
        )


def register(app: typer.Typer) -> None:
    app.command()(changes)
