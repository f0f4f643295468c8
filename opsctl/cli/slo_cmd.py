"""``opsctl slo ENV``: availability over the SLO period, the error budget, burn rates and a chart of the budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from opsctl.cli.common import app_of
from opsctl.cli.completion import complete_env

if TYPE_CHECKING:
    from datetime import datetime

    from opsctl.cli.output import Output
    from opsctl.slo.status import SloStatus

LEVELS = " ▁▂▃▄▅▆▇█"
CHART_ROWS = 4  # 4 rows of 8 steps: the budget to 1/32


def slo(
    ctx: typer.Context,
    env: str = typer.Argument(..., autocompletion=complete_env, help="Environment, e.g. production."),
) -> None:
    """Error budget: availability over the SLO period, budget spent and remaining, burn rates, a chart.

    Counts requests from the environment's Prometheus (health.prometheus_url:
    increase of http_requests_total, 5xx as bad) or CloudWatch (health.cloudwatch:
    ALB RequestCount vs HTTPCode_ELB_5XX_Count + HTTPCode_Target_5XX_Count),
    against slo.availability over slo.period (default 99.9% over 30d). Burn
    rates over 5m, 30m, 1h, 6h and 3d; a fast burn (14.4x over 1h and 5m, or 6x
    over 6h and 30m) pages, and with slo.policy: enforce stops normal changes.
    Exit 0 with budget left and no fast burn, 1 when the budget is exhausted or
    burning fast, 5 when the source cannot be asked.

    \b
    Examples:
      opsctl slo production
      opsctl slo production --json | jq .budget_remaining
    """
    from opsctl.slo.context import EnvLook
    from opsctl.slo.status import read_status

    application = app_of(ctx)
    ws = application.workspace()
    ws.config.environment(env)
    status = read_status(EnvLook(ws.config, env, ws.redactor, ws.clock))
    if application.json:
        application.output.json_document(status.as_dict())
    else:
        _draw(application.output, status)
    raise typer.Exit(0 if status.healthy else 1)


def _draw(out: Output, status: SloStatus) -> None:
    from rich.markup import escape
    from rich.table import Table

    from opsctl.slo.status import availability_text, objective_text, period_text

    budget = status.budget
    title = f"error budget of {status.env}: {objective_text(budget.objective)} over {period_text(budget.period_s)}"
    out.show(f"[bold]{escape(title)}[/] [dim](policy {status.policy}; {escape(status.source_label)})[/]")
    figures = Table(show_header=False, box=None, padding=(0, 2, 0, 2))
    figures.add_column("figure")
    figures.add_column("value", justify="right")
    figures.add_column("share", justify="right")
    figures.add_row("requests", f"{budget.counts.total:,.0f}", f"{budget.counts.bad:,.0f} failed")
    figures.add_row("availability", availability_text(budget.availability), "")
    figures.add_row("budget total", f"{budget.total_minutes:.1f} min", "100.0%")
    figures.add_row("spent", _minutes(budget.spent_minutes), _share(budget.spent))
    style = "red" if budget.exhausted else "green"
    figures.add_row(
        "remaining", f"[{style}]{_minutes(budget.remaining_minutes)}[/]", f"[{style}]{_share(budget.remaining)}[/]"
    )
    out.show(figures)
    rates = "  ".join(f"{name} {_rate(rate)}" for name, rate in status.burn_rates.items())
    out.show(f"burn rates: {rates}")
    for alert in status.alerts:
        mark = "[bold red]FIRING[/]" if alert.firing else "[green]ok[/]"
        out.show(f"  {mark} {alert.rule.severity}: {escape(alert.describe())}")
    if status.over_time:
        for line in chart(status.over_time):
            out.show(line)
    for problem in status.problems():
        out.show(f"[bold red]{escape(problem)}[/]")


def chart(points: tuple[tuple[datetime, float], ...], rows: int = CHART_ROWS) -> list[str]:
    """A small column chart of the budget left (0 to 100 %), one column per point, with its dates below."""
    steps = rows * (len(LEVELS) - 1)
    lines: list[str] = []
    for row in range(rows, 0, -1):
        cells = []
        for _, left in points:
            filled = round(min(1.0, max(0.0, left)) * steps)
            level = max(0, min(len(LEVELS) - 1, filled - (row - 1) * (len(LEVELS) - 1)))
            colour = "green" if left > 0.5 else "yellow" if left > 0 else "red"
            cell = LEVELS[level] if left > 0 or row > 1 else "▁"  # an exhausted budget still shows, on the floor
            cells.append(f"[{colour}]{cell}[/]")
        label = "100%" if row == rows else "  0%" if row == 1 else "    "
        lines.append(f"{label} │{''.join(cells)}")
    first, last = points[0][0], points[-1][0]
    gap = max(1, len(points) - 10)
    lines.append(f"      {first:%m-%d}{' ' * gap}{last:%m-%d}")
    return ["budget left over the period:", *lines]


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} min"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.2f}x"


def register(app: typer.Typer) -> None:
    app.command()(slo)
