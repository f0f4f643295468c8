"""The report page in a real headless Chromium (Debian's, driven by Playwright): offline, no errors, the charts.

The page is opened from a file:// URL; every request the browser makes is
recorded, and the only one allowed is that file. Screenshots at phone
(390 px) and desktop (1280 px) widths are saved under tmp_path and printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reports.history import Generated
from tests.reports.pages import report_page
from tests.support.binaries import require_binary

ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _playwright() -> object:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # the dev extra installs it; say how
        import os

        message = "needs playwright: pip install -e '.[dev]' (never `playwright install`: Debian's chromium is used)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return sync_playwright


@pytest.mark.timeout(180)
def test_the_report_renders_offline_with_its_charts(project: Path, history: Generated, tmp_path: Path) -> None:
    chromium = require_binary("chromium")
    sync_playwright = _playwright()
    page_file = tmp_path / "report.html"
    page_file.write_text(report_page(project), encoding="utf-8")
    requests: list[str] = []
    problems: list[str] = []
    with sync_playwright() as pw:  # type: ignore[operator]
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            for width in (390, 1280):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.on("request", lambda request: requests.append(request.url))
                page.on("console", lambda message: problems.append(f"{message.type}: {message.text}"))
                page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
                page.goto(page_file.as_uri(), wait_until="load")
                assert page.locator("svg.chart").count() == 6
                assert page.locator('svg.chart[role="img"] > title').count() == 6
                assert page.locator('svg.chart[role="img"] > desc').count() == 6
                deploy_bars = page.locator("figure[id^=deploys-] rect.bar").count()
                assert deploy_bars == len(history.cells)
                assert page.locator("#cfr circle.point").count() + page.locator("#mttr circle.point").count() > 0
                assert page.locator("#ack rect.bar").count() == 8
                assert page.locator("script").count() == 0
                # nothing wider than the viewport but the tables' own scroll boxes
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                shot = tmp_path / f"report-{width}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000
                print(f"screenshot at {width} px: {shot}")
                page.close()
        finally:
            browser.close()
    assert requests == [page_file.as_uri(), page_file.as_uri()]
    assert problems == []
