"""The report page from a generated history: the right marks, nothing hostile gets through, empty history too."""

from __future__ import annotations

import re
from pathlib import Path

from tests.reports.conftest import HOSTILE
from tests.reports.history import Generated
from tests.reports.pages import report_page


def count(html: str, pattern: str) -> int:
    return len(re.findall(pattern, html))


def test_one_bar_per_environment_week_and_outcome(project: Path, history: Generated) -> None:
    html = report_page(project)
    assert count(html, r'<svg class="chart"') == 2 + 2 + 2  # deploys x2 envs, CFR, MTTR, incidents, ack
    deploys = re.findall(r'<figure id="deploys-\d">.*?</figure>', html)
    assert len(deploys) == 2
    assert sum(count(f, r'<rect class="bar (?:ok|warn|bad)"') for f in deploys) == len(history.cells)
    for figure, env in zip(deploys, ("staging", "production"), strict=True):
        assert f"<figcaption>Deploys per week in {env}</figcaption>" in figure
        assert count(figure, r'<rect class="bar') == sum(1 for cell in history.cells if cell[0] == env)
    assert count(html, r'role="img"') == count(html, r"<desc id=") == 6
    assert count(html, r"<details><summary>Data table</summary><table>") == 6
    # incidents: 12 bars by week and severity would merge per week; the ack chart has 4 medians + 4 targets
    assert (
        count(html, r'<rect class="bar c5" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+"><title>P\d, response')
        == 4
    )


def test_hostile_strings_from_the_log_are_escaped(project: Path, history: Generated) -> None:
    html = report_page(project)
    assert HOSTILE not in html
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Content-Security-Policy\" content=\"default-src 'none'" in html


def test_an_empty_history_still_makes_a_page(project: Path) -> None:
    html = report_page(project)
    assert html.startswith("<!DOCTYPE html>")
    assert count(html, r'<rect class="bar') == 0
    assert "No incident was opened in the window." in html
    assert "No change failure in the window." in html
    assert "No lead time: no verified deploy to production in the window." in html
    assert "No SLO source counts requests" in html
