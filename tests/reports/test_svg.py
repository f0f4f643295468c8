"""The hand-written SVG charts: one mark per value, gaps in lines, accessible names, every string escaped."""

from __future__ import annotations

import re

from opsctl.reports.svg import Series, Target, bar_chart, line_chart, nice_top, number

HOSTILE = '<script>alert("x")</script>&"\''


def count(html: str, pattern: str) -> int:
    return len(re.findall(pattern, html))


def test_stacked_bars_draw_one_rect_per_non_zero_value() -> None:
    chart = bar_chart(
        "deploys-0",
        "Deploys per week",
        "stacked by outcome",
        ["11-02", "11-09", "11-16"],
        [Series("succeeded", (3, 0, 2), "ok"), Series("failed", (1, None, 0), "bad")],
    )
    assert chart.bars == 3
    assert count(chart.html, r'<rect class="bar ') == 3
    assert count(chart.html, r'<rect class="bar ok"') == 2
    assert 'role="img"' in chart.html
    assert 'aria-labelledby="deploys-0-t deploys-0-d"' in chart.html
    assert '<title id="deploys-0-t">Deploys per week</title>' in chart.html
    assert '<desc id="deploys-0-d">stacked by outcome</desc>' in chart.html
    # the table behind the chart: a row per category, a column per series and the total
    assert count(chart.html, r'<tr><th scope="row">') == 3
    assert '<th scope="row">11-09</th><td>0</td><td>-</td><td>0</td>' in chart.html


def test_grouped_bars_sit_side_by_side_and_reference_lines_are_drawn() -> None:
    chart = bar_chart(
        "ack",
        "Ack",
        "d",
        ["P0", "P1"],
        [Series("median", (2, 30), "c0"), Series("target", (5, 15), "c5")],
        stacked=False,
        targets=[Target("whole budget", 100)],
    )
    assert chart.bars == 4
    assert count(chart.html, r'<line class="target"') == 1
    xs = [float(x) for x in re.findall(r'<rect class="bar c\d" x="([\d.]+)"', chart.html)]
    assert xs[0] < xs[1] < xs[2] < xs[3]  # P0 median, P0 target, P1 median, P1 target


def test_a_line_breaks_at_unknown_values() -> None:
    chart = line_chart("cfr", "CFR", "d", ["a", "b", "c", "d", "e"], [Series("cfr", (10, 20, None, 5, 6), "bad")])
    assert chart.points == 4
    assert count(chart.html, r'<circle class="point bad"') == 4
    assert count(chart.html, r'<path class="line bad"') == 2


def test_every_string_is_escaped() -> None:
    chart = bar_chart(HOSTILE, HOSTILE, HOSTILE, [HOSTILE], [Series(HOSTILE, (1,), HOSTILE)], unit=HOSTILE)
    assert "<script" not in chart.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&quot;&#x27;" in chart.html
    line = line_chart("l", HOSTILE, HOSTILE, [HOSTILE], [Series(HOSTILE, (1,), "c0")])
    assert "<script" not in line.html


def test_axis_tops_and_labels() -> None:
    assert [nice_top(v) for v in (0, 0.5, 3, 7, 12, 101, 2000)] == [1, 1, 5, 10, 20, 200, 2000]
    assert [number(v) for v in (3.0, 2.5, 0.125)] == ["3", "2.5", "0.12"]
