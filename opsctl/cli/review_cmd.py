"""``opsctl review weekly|monthly|quarterly``: the seed's regular reviews, as Markdown or HTML, sent and recorded."""

from __future__ import annotations

from pathlib import Path

import typer

from opsctl.cli.common import app_of
from opsctl.errors import BadInput

KINDS = ("weekly", "monthly", "quarterly")
FORMATS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


def _kinds(incomplete: str) -> list[str]:
    return [k for k in KINDS if k.startswith(incomplete)]


def review(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="weekly, monthly or quarterly.", autocompletion=_kinds, show_default=False),
    period: str | None = typer.Option(
        None, "--period", help="Which period: 2026-W47, 2026-11 or 2026-Q3 (default: the last complete one)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write the review to FILE: .md for Markdown, .html for a page."
    ),
    send: bool = typer.Option(False, "--send", help="Post it to Slack and email (where notify: configures them)."),
) -> None:
    """A regular review from the audit log: weekly metrics, monthly incidents, quarterly trends.

    weekly: the week's deployment figures per environment next to the week
    before, its change failures, incidents and waived gates. monthly: the
    incident retrospective, every incident of the month with its response
    against the targets, its post-mortem status and action items. quarterly:
    process figures (deploys, success and change failure rate, MTTR, MTBF,
    lead time, incidents answered on time, post-mortems written, gates
    waived, reviews held) against the previous quarter. Prints Markdown; with
    --out or --send the review is recorded in the audit log as held (what
    `opsctl maturity` counts as regular reviews); printed alone it is a preview.

    \b
    Examples:
      opsctl review weekly
      opsctl review monthly --period 2026-11 --out reviews/2026-11.html
      opsctl review quarterly --send --out reviews/2026-Q4.md
      opsctl --json review weekly
    """
    from opsctl.reports.periods import period_of
    from opsctl.reports.review import build_review
    from opsctl.reports.review_render import to_html, to_markdown

    application = app_of(ctx)
    if kind not in KINDS:
        raise BadInput(f"unknown review '{kind}' (use weekly, monthly or quarterly)")
    form = None
    if out is not None:
        form = FORMATS.get(out.suffix.lower())
        if form is None:
            raise BadInput(f"--out {out}: name a .md (Markdown) or .html file")
    ws = application.workspace()
    chosen = period_of(kind, period, ws.clock())
    result = build_review(ws, kind, chosen)
    markdown = to_markdown(result)
    if out is not None:
        from opsctl.reports.report_page import write_page

        out = write_page(out, to_html(result) if form == "html" else markdown)
    published = None
    if out is not None or send:
        from opsctl.reports.publish import publish

        published = publish(ws, result, out=out, send=send)
    output = application.output
    if output.json:
        output.json_document({**result.as_dict(), "recorded": published.as_dict() if published else None})
        return
    if out is None:
        output.text(markdown, end="")
    else:
        output.text(f"wrote {out}")
    if published is None:
        output.text("preview only: not recorded as held (pass --out FILE or --send)", err=True)
        return
    for delivery in published.deliveries:
        output.text(f"{delivery.channel}: {delivery.status}: {delivery.summary}", err=delivery.status == "warned")
    if send and not published.channels:
        output.text("--send: no Slack or email configured under notify: in opsctl.yaml; nothing sent", err=True)
    output.text(f"recorded as held: run {published.run}", err=out is None)


def register(app: typer.Typer) -> None:
    app.command()(review)
