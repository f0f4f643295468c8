"""Tables at 80 columns and in pipes: ids and statuses whole, the least useful columns wrapped or left out first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from opsctl.audit.log import AuditLog
from opsctl.cli.audit_views import events_view
from opsctl.cli.tables import RUN_COLUMNS, Column, fit_table
from tests.support.clirunner import opsctl
from tests.support.context import base_config

RUN_IDS = [f"r202611{day:02d}-101500-{day:06x}" for day in range(20, 26)]
ARN = "arn:aws:sts::123456789012:assumed-role/deployer/ana.lovelace"
LONG = "hvb-registry.eu-west-1.example.com/hotel-voice-bot:1.8.0-rc.1"


def draw(renderable: object, width: int) -> list[str]:
    console = Console(width=width, record=True, no_color=True, highlight=False)
    console.print(renderable)
    return [line.rstrip() for line in console.export_text().splitlines()]


def fits(lines: list[str], width: int, *, cut: str = "…") -> None:
    too_wide = [line for line in lines if len(line) > width]
    assert not too_wide, "\n".join(too_wide)
    assert not any(cut in line for line in lines), "\n".join(lines)


# --- fit_table -------------------------------------------------------------------------------------------------


def run_rows() -> list[list[str]]:
    statuses = ["succeeded", "rollback_failed", "rolled_back", "failed", "interrupted", "running"]
    return [
        ["2026-11-27 10:15:00", run, "hot-patch", "development", "dependabot@hvb.example.com", LONG, status]
        for run, status in zip(RUN_IDS, statuses, strict=True)
    ]


@pytest.mark.parametrize("width", [80, 100, 60])
def test_ids_and_statuses_stay_whole_at_any_width(width: int) -> None:
    lines = draw(fit_table(RUN_COLUMNS, run_rows(), width), width)
    fits(lines, width)
    text = "\n".join(lines)
    for run in RUN_IDS:
        assert text.count(run) == 1
    for status in ("succeeded", "rollback_failed", "rolled_back", "interrupted"):
        assert status in text


def test_at_80_columns_the_least_useful_columns_are_left_out_and_named() -> None:
    lines = draw(fit_table(RUN_COLUMNS, run_rows(), 80), 80)
    header = next(line for line in lines if "run" in line and "status" in line)
    assert header.split() == ["┃", "started", "┃", "run", "┃", "env", "┃", "status", "┃"]
    assert lines[-1] == "hidden to fit 80 columns: runbook, actor, image (--json shows all)"
    first = lines.index(next(line for line in lines if RUN_IDS[0] in line))
    assert lines[first].startswith("│ 2026-11-27 ")  # one character short of the whole time: it wraps after the date
    assert lines[first + 1].startswith("│ 10:15:00 ")


def test_a_wide_terminal_shows_every_column_on_one_line_per_row() -> None:
    lines = draw(fit_table(RUN_COLUMNS, run_rows(), 200), 200)
    assert not any(line.startswith("hidden") for line in lines)
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) == len(RUN_IDS)
    assert f"│ 2026-11-27 10:15:00 │ {RUN_IDS[0]} │ hot-patch │ development │" in rows[0]
    assert LONG in rows[0]


def test_free_text_wraps_before_a_step_name_is_folded() -> None:
    columns = (
        Column("step", wrap=True, min_width=10),
        Column("status"),
        Column("summary", wrap=True, min_width=12, squeeze=1),
    )
    rows = [["pre-deploy/code-review-confirmed", "passed", "Code review completed and approved by two people: ok"]]
    lines = draw(fit_table(columns, rows, 60), 60)
    fits(lines, 60)
    assert "pre-deploy/code-review-confirmed" in lines[3]


def test_an_empty_column_takes_no_room_and_is_not_reported() -> None:
    columns = (Column("id"), Column("title", wrap=True), Column("", wrap=True))
    lines = draw(fit_table(columns, [["INC-1", "bookings fail", ""]], 80), 80)
    assert lines[0] == "┏━━━━━━━┳━━━━━━━━━━━━━━━┓"
    assert not any("hidden" in line for line in lines)


def test_markup_counts_as_the_text_it_shows() -> None:
    columns = (Column("run"), Column("status"))
    lines = draw(fit_table(columns, [[RUN_IDS[0], "[bold red]rollback_failed[/]"]], 80), 80)
    assert lines[3] == f"│ {RUN_IDS[0]} │ rollback_failed │"


def test_a_caption_is_a_line_of_its_own_below_the_table() -> None:
    columns = (Column("release"), Column("verdict"))
    lines = draw(fit_table(columns, [["hvb-staging:7", "verified"]], 80, caption="the newest 1; older: --all"), 80)
    assert lines[-1] == "the newest 1; older: --all"


# --- audit show ------------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=30)
        return self.now


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(base_config(), sort_keys=False))
    log = AuditLog(tmp_path / ".opsctl" / "audit.jsonl", clock=Clock())
    for run, day in zip(RUN_IDS, range(6), strict=True):
        env = "production" if day % 2 else "staging"
        base = {"run": run, "runbook": "deploy", "env": env, "actor": "ana@hvb.example", "caller_arn": ARN}
        log.append({**base, "step": "run", "status": "started", "params": {"image": LONG}})
        log.append({**base, "step": "pre-deploy/code-review-confirmed", "status": "passed", "summary": "approved: ok"})
        done = {"id": f"hvb-{env}:{day}", "image": LONG}
        log.append({**base, "step": "run", "status": "succeeded", "release_after": done, "verified": True})
    breaker = {"run": RUN_IDS[0], "runbook": "deploy", "env": "staging", "actor": "[bot]@hvb.example"}
    log.append({**breaker, "step": "lock.release", "status": "passed", "summary": "lock broken by [bot]"})
    opened = {"run": "r-inc-1", "runbook": "incident", "env": "production", "actor": "ana@hvb.example"}
    title = "booking calls fail for some hotels since the 1.8.0 release went out"
    log.append(
        {**opened, "step": "incident", "status": "opened", "incident": "INC-1", "severity": "P1", "title": title}
    )
    monkeypatch.chdir(tmp_path)
    for name in ("OPSCTL_CONFIG", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_audit_show_run_says_the_runs_fields_once(project: Path) -> None:
    result = opsctl("audit", "show", "--run", RUN_IDS[1], env={"COLUMNS": "80"})
    lines = result.out.splitlines()
    assert result.code == 0
    assert lines[:3] == [
        f"run {RUN_IDS[1]} · deploy · production · on 2026-11-27 (UTC)",
        "actor ana@hvb.example",
        f"aws identity {ARN}",
    ]
    assert lines[4].split() == ["┃", "time", "┃", "step", "┃", "status", "┃", "summary", "┃"]
    assert lines[6].startswith("│ 09:02:00 │ run                              │ started   │ ")
    assert result.out.count(RUN_IDS[1]) == 1
    assert result.out.count("ana@hvb.example") == 1
    fits(lines, 80)


def test_a_field_that_changes_within_the_run_stays_a_column(project: Path) -> None:
    result = opsctl("audit", "show", "--run", RUN_IDS[0], env={"COLUMNS": "120"})
    lines = result.out.splitlines()
    assert lines[0] == f"run {RUN_IDS[0]} · deploy · staging · on 2026-11-27 (UTC)"
    assert lines[1].startswith("┏")  # neither the actor nor the ARN is the same on every event
    header = lines[2].split()
    assert header[:8] == ["┃", "time", "┃", "actor", "┃", "aws", "identity", "┃"]
    assert "│ [bot]@hvb.example │ -" in result.out  # literal text, not Rich markup


def test_audit_show_json_is_unchanged_by_grouping(project: Path) -> None:
    result = opsctl("--json", "audit", "show", "--run", RUN_IDS[1])
    events = [json.loads(line) for line in result.out.splitlines()]
    assert [e.get("step") for e in events[:-1]] == ["run", "pre-deploy/code-review-confirmed", "run"]
    assert all(e["run"] == RUN_IDS[1] and e["caller_arn"] == ARN for e in events[:-1])
    assert events[-1] == {"event": "audit.show.finished", "ok": True, "exit_code": 0, "events": 3}


def test_audit_show_without_run_keeps_one_row_per_event_and_fits(project: Path) -> None:
    result = opsctl("audit", "show", "--env", "production", env={"COLUMNS": "80"})
    lines = result.out.splitlines()
    fits(lines, 80)
    for run in RUN_IDS[1::2]:
        assert result.out.count(run) == 3
    assert lines[-1] == "hidden to fit 80 columns: env, actor, aws identity (--json shows all)"


def test_grouped_view_of_several_runs_gives_each_its_heading() -> None:
    events = [
        {"ts": "2026-11-27T09:00:00.000Z", "run": "r-a", "runbook": "deploy", "env": "staging", "step": "run"},
        {"ts": "2026-11-28T09:00:00.000Z", "run": "r-b", "runbook": "rollback", "env": "staging", "step": "run"},
        {"ts": "2026-11-29T09:00:00.000Z", "run": "r-b", "runbook": "rollback", "env": "staging", "step": "run"},
    ]
    lines = draw(events_view(events, 80, by_run=True), 80)
    headings = [line for line in lines if line.startswith("run ")]
    assert headings == ["run r-a · deploy · staging · on 2026-11-27 (UTC)", "run r-b · rollback · staging"]
    assert "│ 2026-11-28 09:00:00 │ run" in "\n".join(lines)  # over two days: the whole time on each row


# --- runs, releases, incidents through the CLI, at 80 columns and in a pipe ----------------------------------------


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (("runs",), RUN_IDS),
        (("releases", "production"), ["hvb-production:1", "hvb-production:3", "hvb-production:5"]),
        (("runs", "--env", "staging"), RUN_IDS[0::2]),  # `status` draws its last runs with the same table
        (("audit", "show", "--limit", "9"), RUN_IDS[3:]),
        (("incident", "list"), ["INC-1", "P1", "NO ACK"]),
    ],
)
def test_commands_fit_80_columns_with_ids_whole(project: Path, args: tuple[str, ...], ids: list[str]) -> None:
    result = opsctl(*args, env={"COLUMNS": "80"})
    lines = result.out.splitlines()
    fits(lines, 80, cut="…" if args[0] != "incident" else "…\n")  # "12m…": an incident's clock still running
    for found in ids:
        assert found in result.out


def test_runs_in_a_pipe_fit_80_columns_with_ids_and_statuses_whole(project: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "OPSCTL_CONFIG")}
    done = subprocess.run(
        [sys.executable, "-m", "opsctl", "runs"],
        cwd=project,
        env=environ,
        stdin=subprocess.DEVNULL,  # not the terminal pytest may run in: a pipe has no width of its own
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    fits(lines, 80)
    assert all(run in done.stdout for run in RUN_IDS)
    assert done.stdout.count("succeeded") == len(RUN_IDS)
    assert lines[-1] == "hidden to fit 80 columns: actor, image (--json shows all)"
