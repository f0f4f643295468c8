"""Charts as hand-written inline SVG: stacked or grouped bars and lines, each with its data table.

No charting library: the report page must open offline, import nothing heavy
and carry no script. Every chart is a ``<figure>`` holding an SVG with
``role="img"``, a ``<title>`` and a ``<desc>`` named by ``aria-labelledby``,
a legend, and the same numbers as a ``<table>`` (what a screen reader, a
printout or a copy-paste uses). Every string is escaped here: series and
category names come from the audit log, which is hostile input.

Marks carry fixed classes the browser test counts: ``rect.bar`` (one per
non-zero value), ``circle.point`` (one per known value of a line),
``path.line`` (one per run of known values), ``line.target`` (reference lines).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 44
MAX_LABELS = 12  # x labels shown at most; the table has them all


@dataclass(frozen=True)
class Series:
    """One named row of values (None: unknown, drawn as a gap), with its colour class (``ok``, ``bad``, ``c0``...)."""

    name: str
    values: tuple[float | None, ...]
    tone: str


@dataclass(frozen=True)
class Target:
    """A horizontal reference line (a response target, 100 % of a budget)."""

    name: str
    value: float


@dataclass(frozen=True)
class Chart:
    """What a page section needs: the ``<figure>`` (SVG, legend, table) as HTML."""

    html: str
    bars: int
    points: int


def esc(value: object) -> str:
    """Text or an attribute value, escaped for HTML (quotes too)."""
    return escape(str(value), quote=True)


def safe_id(text: str) -> str:
    """An element id made of letters, digits, ``-`` and ``_`` only (it is also used inside ``aria-labelledby``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "", text) or "chart"


def nice_top(value: float) -> float:
    """The axis maximum: ``value`` rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def number(value: float) -> str:
    """A value as a label: whole numbers without decimals, others with at most two."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    stacked: bool = True,
    targets: Sequence[Target] = (),
    fmt: Callable[[float], str] = number,
) -> Chart:
    """Bars per category: stacked (deploys by outcome) or side by side (time taken vs target)."""
    chart_id = safe_id(chart_id)
    count = max(1, len(categories))
    totals = [
        sum(s.values[i] or 0 for s in series) if stacked else max((s.values[i] or 0 for s in series), default=0)
        for i in range(len(categories))
    ]
    top = nice_top(max([*totals, *(t.value for t in targets)], default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / count
    marks: list[str] = []
    bars = 0
    for i, category in enumerate(categories):
        base = 0.0
        width = slot * 0.7 / (1 if stacked else max(1, len(series)))
        for k, s in enumerate(series):
            value = s.values[i]
            if not value:
                continue
            height = value / top * plot_h
            x = LEFT + i * slot + slot * 0.15 + (0 if stacked else k * width)
            y = TOP + plot_h - (base + value) / top * plot_h if stacked else TOP + plot_h - height
            label = f"{category}, {s.name}: {fmt(value)}{unit}"
            marks.append(
                f'<rect class="bar {esc(s.tone)}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{max(height, 0.5):.1f}"><title>{esc(label)}</title></rect>'
            )
            bars += 1
            if stacked:
                base += value
    svg = _frame(
        chart_id, title, desc, categories=categories, top=top, unit=unit, fmt=fmt, marks=marks, targets=targets
    )
    table = _table(title, categories, series, unit, fmt, stacked=stacked)
    return Chart(_figure(chart_id, title, svg, unit=unit, series=series, targets=targets, table=table), bars, 0)


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    targets: Sequence[Target] = (),
    fmt: Callable[[float], str] = number,
) -> Chart:
    """Lines over categories (a rate or a duration per week); unknown values break the line."""
    chart_id = safe_id(chart_id)
    count = max(1, len(categories))
    known = [v for s in series for v in s.values if v is not None]
    top = nice_top(max([*known, *(t.value for t in targets)], default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / count
    marks: list[str] = []
    points = 0
    for s in series:
        runs: list[list[str]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            x = LEFT + i * slot + slot / 2
            y = TOP + plot_h - value / top * plot_h
            runs[-1].append(f"{x:.1f},{y:.1f}")
            label = f"{categories[i]}, {s.name}: {fmt(value)}{unit}"
            marks.append(
                f'<circle class="point {esc(s.tone)}" cx="{x:.1f}" cy="{y:.1f}" r="3.5">'
                f"<title>{esc(label)}</title></circle>"
            )
            points += 1
        for run in runs:
            if len(run) > 1:
                marks.insert(0, f'<path class="line {esc(s.tone)}" d="M{" L".join(run)}"/>')
    svg = _frame(
        chart_id, title, desc, categories=categories, top=top, unit=unit, fmt=fmt, marks=marks, targets=targets
    )
    table = _table(title, categories, series, unit, fmt, stacked=False)
    return Chart(_figure(chart_id, title, svg, unit=unit, series=series, targets=targets, table=table), 0, points)


def _frame(
    chart_id: str,
    title: str,
    desc: str,
    *,
    categories: Sequence[str],
    top: float,
    unit: str,
    fmt: Callable[[float], str],
    marks: list[str],
    targets: Sequence[Target],
) -> str:
    """The SVG around the marks: title, description, grid, axis labels, reference lines."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-t">{esc(title)}</title>',
        f'<desc id="{chart_id}-d">{esc(desc)}</desc>',
    ]
    for step in range(5):
        value = top * step / 4
        y = TOP + plot_h - value / top * plot_h
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{esc(fmt(value))}</text>')
    count = max(1, len(categories))
    every = max(1, math.ceil(len(categories) / MAX_LABELS))
    for i, category in enumerate(categories):
        if i % every == 0:
            x = LEFT + (i + 0.5) * plot_w / count
            # Every other label is "minor": a phone hides those (page CSS) and shows the rest larger.
            css = "tick minor" if (i // every) % 2 else "tick"
            parts.append(
                f'<text class="{css}" x="{x:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{esc(category)}</text>'
            )
    parts.extend(marks)
    for target in targets:
        y = TOP + plot_h - target.value / top * plot_h
        parts.append(
            f'<line class="target" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}">'
            f"<title>{esc(target.name)}: {esc(fmt(target.value))}{esc(unit)}</title></line>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _figure(
    chart_id: str, title: str, svg: str, *, unit: str, series: Sequence[Series], targets: Sequence[Target], table: str
) -> str:
    caption = f"{title} ({unit.strip()})" if unit.strip() else title
    legend = "".join(f'<li><span class="swatch {esc(s.tone)}"></span>{esc(s.name)}</li>' for s in series)
    legend += "".join(f'<li><span class="swatch target"></span>{esc(t.name)}</li>' for t in targets)
    return (
        f'<figure id="{chart_id}"><figcaption>{esc(caption)}</figcaption>{svg}<ul class="legend">{legend}</ul>'
        f"<details><summary>Data table</summary>{table}</details></figure>"
    )


def _table(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    unit: str,
    fmt: Callable[[float], str],
    *,
    stacked: bool,
) -> str:
    """The chart's numbers: one row per category, one column per series (and the total when stacked)."""
    head = "".join(f'<th scope="col">{esc(s.name)}</th>' for s in series)
    if stacked and len(series) > 1:
        head += '<th scope="col">total</th>'
    rows = []
    for i, category in enumerate(categories):
        cells = "".join(f"<td>{_cell(s.values[i], unit, fmt)}</td>" for s in series)
        if stacked and len(series) > 1:
            cells += f"<td>{_cell(sum(s.values[i] or 0 for s in series), unit, fmt)}</td>"
        rows.append(f'<tr><th scope="row">{esc(category)}</th>{cells}</tr>')
    return (
        f'<table><caption>{esc(title)}</caption><thead><tr><th scope="col"></th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _cell(value: float | None, unit: str, fmt: Callable[[float], str]) -> str:
    return "-" if value is None else esc(f"{fmt(value)}{unit}")
