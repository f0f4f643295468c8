"""`opsctl report --html FILE`: the table as before, the page written, its path in --json; a bad path exits 2."""

from __future__ import annotations

import json
from pathlib import Path

from tests.reports.cli import run
from tests.reports.history import Generated


def test_html_is_written_next_to_the_terminal_report(project: Path, history: Generated, tmp_path: Path) -> None:
    out = tmp_path / "pages" / "report.html"
    done = run(project, "report", "--since", "90d", "--html", str(out))
    assert done.code == 0, done.err
    assert "deployment KPIs, last 90d" in done.out
    assert done.out.endswith(f"HTML report: {out}\n")
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('<svg class="chart"') == 6
    assert oct(out.stat().st_mode & 0o777) == "0o644"


def test_json_names_the_page(project: Path, history: Generated, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = run(project, "--json", "report", "--since", "90d", "--html", str(out))
    assert done.code == 0, done.err
    data = json.loads(done.out)
    assert data["html"] == str(out)
    assert out.is_file()
    assert data["total"]["deploys"] == 300


def test_an_unwritable_path_is_one_line_exit_2(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = run(project, "report", "--html", str(blocker / "report.html"))
    assert (done.code, done.err) == (2, f"error: cannot write {blocker / 'report.html'}: {blocker} is not a folder\n")
