"""``opsctl maturity``: the team against the operational maturity levels, from the evidence opsctl can see."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from opsctl.cli.common import app_of

if TYPE_CHECKING:
    from opsctl.cli.application import Application
    from opsctl.reports.maturity import Assessment

MARKS = {"met": "[green]met[/]", "not met": "[red]not met[/]", "no evidence": "[yellow]no evidence[/]"}


def maturity(
    ctx: typer.Context,
    since: str = typer.Option("90d", "--since", help="How far back runs, incidents and reviews count, e.g. 90d."),
    html: Path | None = typer.Option(None, "--html", help="Also write the assessment as one offline HTML page."),
) -> None:
    """Score the team against the operational maturity levels 1-3 from the evidence opsctl can see.

    Each criterion of the seed's framework is met, not met or no evidence,
    with what opsctl looked at and the next step: deploys recorded, health
    checks, the share of production changes run from CI, runbooks and fresh
    docs (`docs --check`), SLOs measured from real traffic, incidents with
    post-mortems, regular reviews (`opsctl review`), automatic rollback,
    self-healing, burn-rate policy, paging, quarterly reviews. A level is
    reached when all of its criteria and those below are met.

    \b
    Examples:
      opsctl maturity
      opsctl maturity --since 180d --html maturity.html
      opsctl --json maturity
    """
    from opsctl.audit.query import parse_since
    from opsctl.cli.docs_cmd import command_docs
    from opsctl.docs import render_docs
    from opsctl.reports.assess import assess

    application = app_of(ctx)
    ws = application.workspace()
    now = ws.clock()
    seconds = (now - parse_since(since, now)).total_seconds()
    pages = render_docs(ws.config.project_dir, command_docs(ctx.find_root().command))
    result = assess(ws, since_s=seconds, since_text=since, doc_pages=pages)
    written = None
    if html is not None:
        from opsctl.reports.maturity_page import render
        from opsctl.reports.report_page import write_page

        written = write_page(html, render(result))
    if application.json:
        application.output.json_document({**result.as_dict(), "html": str(written) if written else None})
        return
    _draw(application, result)
    if written is not None:
        application.output.text(f"HTML assessment: {written}")


def _draw(application: Application, result: Assessment) -> None:
    from rich.markup import escape
    from rich.table import Table

    from opsctl.reports.maturity import LEVELS

    out = application.output
    out.show(f"[bold]{escape(result.service)}: {escape(result.level_name)}[/]")
    for level, name in LEVELS.items():
        table = Table(title=f"Level {level}: {name}", title_justify="left", show_lines=False)
        table.add_column("criterion", ratio=2)
        table.add_column("status", no_wrap=True)
        table.add_column("evidence / next step", ratio=3)
        for c in (c for c in result.criteria if c.level == level):
            said = escape(c.evidence) + (f"\n[dim]→ {escape(c.next_step)}[/]" if c.next_step else "")
            status = MARKS[c.status] + ("" if c.observable else " [dim](by hand)[/]")
            table.add_row(escape(c.title), status, said)
        out.show(table)
    ahead = result.next_level()
    if ahead is not None:
        level, missing = ahead
        needed = ", ".join(c.key for c in missing) or "nothing opsctl can see"
        out.show(f"next: Level {level} ({LEVELS[level]}) needs {escape(needed)}")


def register(app: typer.Typer) -> None:
    app.command()(maturity)
