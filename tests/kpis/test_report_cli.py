"""`opsctl report` through the Typer app in-process: table, --json, and bad input (exit 2, one line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from opsctl.cli.app import app
from opsctl.cli.application import Application
from opsctl.cli.report_cmd import sparkline
from tests.kpis.logbook import Logbook, at
from tests.support.context import write_config

NOW = at("11-27 12:00")


def opsctl(tmp_path: Path, *args: str) -> Result:
    config = write_config(tmp_path)  # staging and production; the log sits in tmp_path/.opsctl
    application = Application(config_path=str(config), interactive=False, no_color=True, clock=lambda: NOW)
    return CliRunner().invoke(app, list(args), obj=application)


def test_json(tmp_path: Path, month: Logbook) -> None:
    done = opsctl(tmp_path, "--json", "report", "--since", "30d")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["version"] == 1
    assert data["window"]["start"] == "2026-10-28T12:00:00.000Z"
    assert data["window"]["end"] == "2026-11-27T12:00:00.000Z"
    assert len(data["window"]["days"]) == len(data["total"]["deploys_per_day"]) == 31
    staging, production = data["environments"]
    assert staging == staging | {
        "env": "staging",
        "deploys": 5,
        "succeeded": 4,
        "change_failures": 2,
        "recovered": 2,
        "open_failures": 0,
        "deployment_success_rate": 0.8,
        "change_failure_rate": 0.4,
        "mttr_s": 3450.0,
        "mtbf_s": 191100.0,
        "not_counted": {"dry_runs": 1, "stopped_before_rollout": 1, "unfinished": 1},
    }
    assert production["failures"][0] == {
        "run": "p1",
        "env": "production",
        "runbook": "deploy",
        "image": "hvb:1.0.0",
        "why": "followed by hot-patch p2",
        "failed_at": "2026-11-06T10:40:00.000Z",
        "recovered_at": "2026-11-06T12:30:00.000Z",
        "recovered_by": "p2",
        "recovery_s": 6600.0,
    }
    assert (data["total"]["deploys"], data["total"]["mttr_s"], data["total"]["mtbf_s"]) == (9, 4725.0, 609500.0)
    assert "incidents" in data


def test_table(tmp_path: Path, month: Logbook) -> None:
    done = opsctl(tmp_path, "report", "--since", "30d")
    assert done.exit_code == 0, done.output
    out = done.stdout
    assert "deployment KPIs, last 30d (2026-10-28 12:00 to 2026-11-27 12:00 UTC)" in out
    rows = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
        for line in out.splitlines()
        if line.startswith("│") and line.split("│")[1].strip() in ("staging", "production", "all")
    }
    assert rows["staging"] == ["5", "0.17", "80.0%", "40.0%", "57m30s", "2.2d", "0"]
    assert rows["production"] == ["4", "0.13", "50.0%", "75.0%", "1h40m", "9.5d", "1"]
    assert rows["all"] == ["9", "0.30", "66.7%", "55.6%", "1h18m", "7.1d", "1"]
    assert "deploys per day (busiest day: 2)\n2026-10-28 ▁▁▁▁▁▅▅▁▅█▁▁▁▅▁▅▁▁▁▁▁▁▁▅▁▁▁▁▅▁▁ 2026-11-27\n" in out
    assert "  11-05 14:25 staging s5 (hvb:1.0.0): followed by rollback s6; recovered by s6 \nin 1h45m" in out
    assert "11-25 09:30 production p6 (hvb:1.0.0): failed after its rollout (no rollback);\nnot recovered yet" in out
    assert "not deploys: 1 dry run(s), 1 stopped at the gates, 2 unfinished (see --help)\n" in out


def test_one_environment(tmp_path: Path, month: Logbook) -> None:
    done = opsctl(tmp_path, "--json", "report", "--env", "production")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert [e["env"] for e in data["environments"]] == ["production"]
    assert data["total"]["deploys"] == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "soon"], "error: --since soon: must be a duration like 30d, 12h or 90m"),
        (["--since", "30"], "error: --since 30: must be a duration like 30d, 12h or 90m"),
        (["--since", "0d"], "error: --since 0d: must be longer than 0"),
        (["--since", "999999999d"], "error: --since 999999999d: must be at most 100 years (36500d)"),
        (["--since", "2027-01-01"], "error: --since 2027-01-01: must be in the past"),
        (["--env", "qa"], "error: unknown environment 'qa' (defined in "),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    done = opsctl(tmp_path, "report", *args)
    assert done.exit_code == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(message)


def test_since_a_date_is_the_same_window_as_the_duration(tmp_path: Path, month: Logbook) -> None:
    by_date = json.loads(opsctl(tmp_path, "--json", "report", "--since", "2026-11-20T12:00Z").stdout)
    by_duration = json.loads(opsctl(tmp_path, "--json", "report", "--since", "7d").stdout)
    assert by_date == by_duration
    assert by_date["window"]["start"] == "2026-11-20T12:00:00.000Z"
    assert by_date["window"]["since_s"] == 7 * 86400


def test_no_runs_yet(tmp_path: Path) -> None:
    done = opsctl(tmp_path, "report")
    assert done.exit_code == 0, done.output
    assert "deploys per day (busiest day: 0)\n2026-10-28 " + "▁" * 31 + " 2026-11-27\n" in done.stdout
    assert "change failures:" not in done.stdout


def test_sparkline() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == ("▁▂▃▅█", 1)
    assert sparkline([]) == ("", 1)
    line, per_bar = sparkline([1] * 365)
    assert (len(line), per_bar) == (53, 7)  # a year fits the terminal: one bar per week
