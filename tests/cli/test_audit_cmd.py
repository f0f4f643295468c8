"""``opsctl audit show`` / ``audit verify`` through the CLI, and secrets kept out of the log and the terminal."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from opsctl.audit.log import AuditLog
from tests.support.audit import event, lines_of, write_lines
from tests.support.clirunner import opsctl
from tests.support.context import FIXED_NOW, base_config
from tests.support.util import builtins, checklist, command_item, py, write_checklist

__all__ = ["builtins"]

SECRET = "hvb-s3cret-hook-7c1d2e3f"
HEADER_SECRET = "hvb-header-key-5a6b7c8d"
TORN = "truncated tail left by a crash (the last write did not finish); the next opsctl run records a recovery event"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builtins: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("OPSCTL_CONFIG", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(base_config(), sort_keys=False))
    return tmp_path


@pytest.fixture
def log_path(project: Path) -> Path:
    return project / ".opsctl" / "audit.jsonl"


def clock_at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


# --- verify -----------------------------------------------------------------------------------------------------


def test_verify_an_intact_log(log_path: Path) -> None:
    log = AuditLog(log_path)
    for n in range(3):
        log.append(event(n))
    head = log.verify().head

    result = opsctl("audit", "verify")
    assert (result.code, result.err) == (0, "")
    assert result.out == f"✓ audit log intact: 3 events, head {head[:12]} ({log_path})\n"


def test_verify_when_nothing_was_logged_yet(log_path: Path) -> None:
    result = opsctl("audit", "verify")
    assert result.code == 0
    assert "audit log intact: 0 events" in result.out


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("edit", "line 2: content does not match its hash (the line was edited)"),
        ("delete", "line 2: does not follow the line before it (seq 3 after 1): events were deleted or moved"),
        ("insert", "line 3: does not follow the line before it: lines were reordered or inserted (seq 2 after 2)"),
        ("reorder", "line 2: does not follow the line before it (seq 3 after 1): events were deleted or moved"),
        ("garbage", "line 2: not a valid audit event (damaged or edited)"),
    ],
)
def test_verify_names_the_first_bad_line(log_path: Path, damage: str, message: str) -> None:
    log = AuditLog(log_path)
    for n in range(4):
        log.append(event(n))
    lines = lines_of(log_path)
    if damage == "edit":
        lines[1] = lines[1].replace(b'"actor":"a@example.com"', b'"actor":"mallory@example.com"')
    elif damage == "delete":
        del lines[1]
    elif damage == "insert":
        lines.insert(2, lines[1])
    elif damage == "reorder":
        lines[1], lines[2] = lines[2], lines[1]
    else:
        lines.insert(1, b"# looks harmless\n")
    write_lines(log_path, lines)

    result = opsctl("audit", "verify")
    assert result.code == 1
    assert result.out == ""
    assert result.err == f"{log_path}: {message}\n"


def test_verify_json(log_path: Path) -> None:
    log = AuditLog(log_path)
    log.append(event(1))
    log.append(event(2))
    write_lines(log_path, [lines_of(log_path)[1]])

    result = opsctl("--json", "audit", "verify")
    assert result.code == 1
    assert json.loads(result.out) == {
        "ok": False,
        "events": 0,
        "bad_line": 1,
        "reason": "does not start the chain (lines were removed from the start of the log)",
        "truncated_tail": False,
        "head": "0" * 64,
        "path": str(log_path),
    }


def test_torn_tail_then_the_next_run_recovers(project: Path, log_path: Path) -> None:
    write_checklist(project, "smoke", checklist(command_item("ok", py("pass")), title="Smoke"))
    assert opsctl("checklist", "run", "smoke").code == 0
    log_path.write_bytes(log_path.read_bytes()[:-40])  # a crash in the middle of the last write
    torn_line = len(lines_of(log_path))

    broken = opsctl("audit", "verify")
    assert broken.code == 1
    assert broken.err == f"{log_path}: line {torn_line}: {TORN}\n"
    assert json.loads(opsctl("--json", "audit", "verify").out)["truncated_tail"] is True

    assert opsctl("checklist", "run", "smoke").code == 0  # any new event terminates the torn line

    fixed = opsctl("audit", "verify")
    assert fixed.code == 0, fixed.err
    recoveries = [e for e in AuditLog(log_path).events() if e["step"] == "audit.recover"]
    assert [e["torn_line"] for e in recoveries] == [torn_line]


# --- show -----------------------------------------------------------------------------------------------------


@pytest.fixture
def history(log_path: Path) -> None:
    """Three runs: 10 days ago on staging, 2 hours ago on production, 1 minute ago on staging."""
    for age, run, env in (
        (timedelta(days=10), "r-old", "staging"),
        (timedelta(hours=2), "r-prod", "production"),
        (timedelta(minutes=1), "r-new", "staging"),
    ):
        log = AuditLog(log_path, clock=clock_at(FIXED_NOW - age))
        log.append({"run": run, "runbook": "deploy", "env": env, "actor": "a", "step": "run", "status": "started"})
        log.append(
            {
                "run": run,
                "runbook": "deploy",
                "env": env,
                "actor": "a",
                "step": "run",
                "status": "passed",
                "summary": f"{run} done",
            }
        )


def shown_runs(*args: str) -> list[str]:
    result = opsctl("--json", "audit", "show", *args)
    assert result.code == 0, result.err
    *events, summary = [json.loads(line) for line in result.out.splitlines()]
    assert summary == {"event": "audit.show.finished", "ok": True, "exit_code": 0, "events": len(events)}
    return [e["run"] for e in events]


def test_show_everything_oldest_first(history: None) -> None:
    assert shown_runs() == ["r-old", "r-old", "r-prod", "r-prod", "r-new", "r-new"]


def test_show_filters(history: None) -> None:
    assert shown_runs("--run", "r-prod") == ["r-prod", "r-prod"]
    assert shown_runs("--env", "staging") == ["r-old", "r-old", "r-new", "r-new"]
    assert shown_runs("--since", "1d") == ["r-prod", "r-prod", "r-new", "r-new"]
    assert shown_runs("--since", "5m") == ["r-new", "r-new"]
    assert shown_runs("--since", "1d", "--env", "staging") == ["r-new", "r-new"]
    assert shown_runs("--limit", "3") == ["r-prod", "r-new", "r-new"]
    assert shown_runs("--run", "r-none") == []


def test_show_filters_by_step_and_status(history: None) -> None:
    assert shown_runs("--step", "run", "--status", "passed") == ["r-old", "r-prod", "r-new"]
    assert shown_runs("--status", "started", "--env", "production") == ["r-prod"]
    assert shown_runs("--status", "passed", "--limit", "1") == ["r-new"]
    assert shown_runs("--step", "pre-deploy") == []


def test_show_since_a_date_or_a_moment(history: None) -> None:
    assert shown_runs("--since", "2026-11-27") == ["r-prod", "r-prod", "r-new", "r-new"]
    assert shown_runs("--since", "2026-11-27T09:00Z") == ["r-new", "r-new"]
    assert shown_runs("--since", "2026-11-27T08:30+01:00") == ["r-prod", "r-prod", "r-new", "r-new"]  # 07:30Z
    assert shown_runs("--since", "2026-11-27T10:30+01:00") == ["r-new", "r-new"]  # 09:30Z


@pytest.mark.parametrize(
    ("since", "message"),
    [
        (
            "lately",
            "--since lately: must be a duration like 30d, 12h or 90m, or a date like 2026-11-01 or 2026-11-01T09:30Z",
        ),
        ("999999999d", "--since 999999999d: must be at most 100 years (36500d)"),
        ("0d", "--since 0d: must be longer than 0"),
        ("2026-12-24", "--since 2026-12-24: must be in the past"),
    ],
)
def test_show_bad_since_is_one_line_exit_2(history: None, since: str, message: str) -> None:
    result = opsctl("audit", "show", "--since", since)
    assert (result.code, result.out) == (2, "")
    assert result.err == f"error: {message}\n"


def test_show_table(history: None) -> None:
    result = opsctl("audit", "show", "--env", "production")
    assert result.code == 0
    assert "r-prod" in result.out
    assert "r-prod done" in result.out
    assert "r-old" not in result.out
    assert "2026-11-27 08:00:00" in result.out  # FIXED_NOW - 2h, shown without the T and milliseconds


def test_show_when_nothing_matches(history: None) -> None:
    result = opsctl("audit", "show", "--run", "r-none")
    assert (result.code, result.out) == (0, "no audit events match\n")


# --- secrets never reach the log or the terminal ------------------------------------------------------------------


def test_secrets_from_env_vars_never_reach_the_log_or_the_terminal(
    project: Path, log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = base_config(notify={"slack": {"webhook_env": "HVB_TEST_HOOK"}})
    config["environments"]["staging"]["health"]["headers_env"] = {"X-Api-Key": "HVB_TEST_HEADER"}
    (project / "opsctl.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    monkeypatch.setenv("HVB_TEST_HOOK", SECRET)
    monkeypatch.setenv("HVB_TEST_HEADER", HEADER_SECRET)
    leak = py(
        "import os, sys; print('hook', os.environ['HVB_TEST_HOOK']); print('key', os.environ['HVB_TEST_HEADER']);"
        " sys.exit(1)"
    )
    write_checklist(project, "leaky", checklist(command_item("leak", leak), title="Leaky"))

    outputs = []
    for args in (
        ("checklist", "run", "leaky", "--env", "staging", "--set", f"token={SECRET}"),
        ("--json", "checklist", "run", "leaky", "--env", "staging"),
        ("audit", "show"),
        ("--json", "audit", "show"),
    ):
        result = opsctl(*args)
        outputs.append(result.out + result.err)
        assert result.code in (0, 1)

    raw = log_path.read_bytes()
    for secret in (SECRET, HEADER_SECRET):
        assert secret.encode() not in raw
        for output in outputs:
            assert secret not in output
    assert "key ***" in outputs[0]  # the output is shown, masked
    assert b"hook ***" in raw
    assert opsctl("audit", "verify").code == 0
