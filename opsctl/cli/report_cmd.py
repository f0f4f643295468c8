"""``opsctl report``: the operational-maturity KPIs as a table, a sparkline, or JSON."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from opsctl.cli.common import app_of
from opsctl.cli.completion import complete_env

if TYPE_CHECKING:
    from opsctl.cli.application import Application
    from opsctl.kpis.figures import EnvReport, Report
    from opsctl.slo.periods import PeriodBudget
    from opsctl.workspace import Workspace

BARS = "▂▃▄▅▆▇█"  # a day with deploys always shows; "▁" is a day without
SPARK_WIDTH = 56  # with the two dates, one 80-column line


def report(
    ctx: typer.Context,
    since: str = typer.Option("30d", "--since", help="Window ending now, e.g. 7d, 30d, 12h, or since 2026-11-01."),
    env: str | None = typer.Option(None, "--env", "-e", autocompletion=complete_env, help="Only this environment."),
    remote: bool = typer.Option(False, "--remote", help="Everyone's deploys, from the S3 audit mirror (audit.s3)."),
    html: Path | None = typer.Option(None, "--html", help="Also write the report as one offline HTML page of charts."),
) -> None:
    """Deployment KPIs from the audit log: frequency, success rate, change failure rate, MTTR, MTBF.

    A deploy is a deploy or hot-patch run that reached its rollout (dry runs and
    runs stopped by their gates are listed apart; so are the manual gates
    waived with --waive, with their reasons and approvers). A change failure ended
    rolled back, rollback failed or failed, or was followed by a rollback or
    hot-patch before a newer release took over. MTTR runs from the failure to
    the next verified deploy, rollback or hot-patch (or the verified automatic
    rollback); MTBF is the mean gap between failures. Each failure is listed
    with its run ids, so every figure can be checked with `opsctl runs`.

    \b
    Examples:
      opsctl report
      opsctl report --since 90d --env production
      opsctl --json report --since 7d
      opsctl report --remote
      opsctl report --since 90d --html report.html
    """
    from opsctl.audit.query import parse_since
    from opsctl.incidents.metrics import report_source
    from opsctl.kpis.figures import report_from_log

    application = app_of(ctx)
    ws = application.workspace()
    now = ws.clock()
    seconds = (now - parse_since(since, now)).total_seconds()
    if env is not None:
        ws.config.environment(env)
    if remote:
        from opsctl.audit.mirror.remote import RemoteStore
        from opsctl.audit.query import merged_events, run_id_floor
        from opsctl.kpis.figures import MARKS, report_from_events

        # Incidents still come from this host's log: they are not part of the run history.
        store = RemoteStore.for_site(ws.mirror_site())
        floor = run_id_floor(now - timedelta(seconds=seconds))  # only the mirror's partitions of the window
        result = report_from_events(
            merged_events(store, ws.audit, marks=MARKS, since_run=floor),
            now=ws.clock(),
            since_s=seconds,
            env=env,
            environments=list(ws.config.environments),
            incidents=report_source(ws.audit.path),
        )
    else:
        result = report_from_log(
            ws.audit.path,
            now=ws.clock(),
            since_s=seconds,
            env=env,
            environments=list(ws.config.environments),
            incidents=report_source(ws.audit.path),
        )
    from opsctl.slo.periods import report_budgets

    # Error budget spent per SLO period, for the environments whose metrics count requests.
    names = [row.env for row in result.environments]
    budgets = report_budgets(ws.config, ws.redactor, ws.clock, names, start=result.start, end=result.end)
    written = _write_html(ws, html, result, budgets, since, env, remote) if html is not None else None
    if application.json:
        per_env = {name: [p.as_dict() for p in periods] for name, periods in budgets.items()}
        extra = {"html": str(written)} if written is not None else {}
        application.output.json_document({**result.as_dict(), "error_budget": per_env, **extra})
        return
    _draw(application, result, since, budgets)
    if written is not None:
        application.output.text(f"HTML report: {written}")


def _write_html(
    ws: Workspace,
    path: Path,
    result: Report,
    budgets: dict[str, tuple[PeriodBudget, ...]],
    since: str,
    env: str | None,
    remote: bool,
) -> Path:
    """``--html``: the charts page (opsctl.reports is imported only here)."""
    from opsctl.reports.report_page import build_page, write_page

    return write_page(path, build_page(ws, result, budgets, since=since, env=env, remote=remote))


def _draw(
    application: Application, result: Report, since: str, budgets: dict[str, tuple[PeriodBudget, ...]] | None = None
) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = application.output
    table = Table(
        title=f"deployment KPIs, last {since} ({result.start:%Y-%m-%d %H:%M} to {result.end:%Y-%m-%d %H:%M} UTC)",
        title_justify="left",
    )
    rows = list(result.environments)
    table.caption = "CFR: change failure rate · open: change failures not recovered yet"
    table.caption_justify = "left"
    widest = max((len(r.env) for r in rows), default=3)
    table.add_column("env", no_wrap=True, min_width=widest)
    budgets = budgets or {}
    columns = ["deploys", "per day", "success", "CFR", *(["budget"] if budgets else []), "MTTR", "MTBF", "open"]
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    if len(rows) > 1:
        rows.append(result.total)
    for row in rows:
        table.add_row(
            f"[bold]{escape(row.env)}[/]" if row.env == "all" else escape(row.env),
            str(row.deploys),
            f"{row.frequency_per_day:.2f}",
            _percent(row.success_rate),
            _percent(row.change_failure_rate),
            *([_budget_cell(budgets.get(row.env, ()))] if budgets else []),
            _duration(row.mttr_s),
            _duration(row.mtbf_s),
            str(len(row.failures) - len(row.recovered)),
        )
    out.show(table)
    _budgets(application, budgets)
    spark, per_bar = sparkline(result.total.per_day)
    unit = "day" if per_bar == 1 else f"{per_bar} days"
    out.show(f"deploys per {unit} (busiest day: {max(result.total.per_day, default=0)})")
    out.show(f"{result.days[0]} [cyan]{spark}[/] {result.days[-1]}")
    _failures(application, result.total)
    _waivers(application, result)
    _incidents(application, result)
    skipped = result.total
    out.show(
        f"[dim]not deploys: {skipped.dry_runs} dry run(s), {skipped.stopped_before_rollout} stopped at the "
        f"gates, {skipped.unfinished} unfinished (see --help)[/]"
    )


def _budget_cell(periods: tuple[PeriodBudget, ...]) -> str:
    """The budget spent in the newest SLO period (``-`` for an environment without metrics)."""
    return periods[0].spent_text if periods else "-"


def _budgets(application: Application, budgets: dict[str, tuple[PeriodBudget, ...]]) -> None:
    """Budget spent per SLO period, newest first, for each environment with request counts."""
    from rich.markup import escape

    from opsctl.slo.status import period_text

    for env, periods in budgets.items():
        span = period_text((periods[0].end - periods[0].start).total_seconds()) if periods else "-"
        shown = ", ".join(f"to {p.end:%m-%d} {p.spent_text}" for p in periods)
        errors = "; ".join(dict.fromkeys(p.why for p in periods if p.why))
        note = f" [yellow]({escape(errors)})[/]" if errors else ""
        application.output.show(f"error budget spent per {span} period, {escape(env)}: {shown}{note}")


def _incidents(application: Application, result: Report) -> None:
    """The incident process's figures, beside the deploy-based ones (MTTR: incident opened -> resolved)."""
    stats = result.incidents
    if stats is None:
        return
    severities = " · ".join(f"{name} {count}" for name, count in stats.by_severity.items())
    out = application.output
    out.show(
        f"incidents: {stats.opened} opened ({severities}), {stats.resolved} resolved; "
        f"MTTR (opened → resolved) {_duration(stats.mttr_s)}, "
        f"deploy-based MTTR {_duration(result.total.mttr_s)}"
    )
    if stats.breached:
        out.show(f"  [bold red]missed a response or resolution target:[/] {', '.join(stats.breached)}")
    if stats.missing_postmortems:
        out.show(
            f"  [bold yellow]P0/P1 without a post-mortem: {len(stats.missing_postmortems)}[/] "
            f"({', '.join(stats.missing_postmortems)}: opsctl incident postmortem ID)"
        )


def _waivers(application: Application, result: Report) -> None:
    """How often a gate was waived, per environment, and each waiver with its reason and approvers."""
    from rich.markup import escape

    waived = result.total.waivers
    if not waived:
        return
    per_env = ", ".join(f"{escape(r.env)} {len(r.waivers)}" for r in result.environments if r.waivers)
    out = application.output
    out.show(f"[bold yellow]gates waived: {len(waived)}[/] ({per_env})")
    for w in waived:
        out.show(
            f"  {w.at:%m-%d %H:%M} {escape(w.env)} {w.run} {escape(w.item)}: waived by {escape(w.actor)}, "
            f"approved by {escape(', '.join(w.approved_by))}: {escape(w.reason)}"
        )


def _failures(application: Application, total: EnvReport) -> None:
    """One line per change failure, with the run ids a lead needs to check it (`opsctl audit show --run ID`)."""
    from rich.markup import escape

    if not total.failures:
        return
    out = application.output
    out.show("change failures:")
    for f in total.failures:
        recovered = (
            f"recovered by {f.recovered_by} in {_duration(f.recovery_s)}"
            if f.recovered_by
            else "[red]not recovered yet[/]"
        )
        out.show(
            f"  {f.failed_at:%m-%d %H:%M} {escape(f.env)} {f.run} ({escape(f.image or '-')}): "
            f"{escape(f.why)}; {recovered}"
        )


def sparkline(counts: tuple[int, ...] | list[int], width: int = SPARK_WIDTH) -> tuple[str, int]:
    """One character per day (or per group of days, to fit ``width``), and the days per character."""
    per_bar = max(1, math.ceil(len(counts) / width))
    sums = [sum(counts[i : i + per_bar]) for i in range(0, len(counts), per_bar)]
    top = max(sums, default=0)
    return "".join("▁" if n == 0 else BARS[math.ceil(n / top * len(BARS)) - 1] for n in sums), per_bar


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _duration(seconds: float | None) -> str:
    from opsctl.values.durations import format_duration

    if seconds is None:
        return "-"
    return format_duration(seconds) if seconds < 2 * 86400 else f"{seconds / 86400:.1f}d"


def register(app: typer.Typer) -> None:
    app.command()(report)
