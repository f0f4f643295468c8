"""Every command family follows README "JSON output": a query prints ONE JSON document, a run prints
JSON Lines (one event per line) and ends with a summary object that carries ``ok`` and the exit code.

The commands run in-process against a real project in tmp_path; status and health read the fake Fly
Machines API and the sandbox bot, both real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.sandbox.bot import BotServer
from opsctl.workspace import Workspace
from tests.support.clirunner import ACTOR, Result, opsctl
from tests.support.context import FIXED_NOW, base_config
from tests.support.fly_api import FakeFlyApi, fly_api_fixture
from tests.support.incidents import record_open_incident

fly_api = fly_api_fixture

RUN_STATUS_WORDS = {"succeeded", "failed", "rolled_back", "rollback_failed", "interrupted", "running", "dry_run"}
RELEASE_WORDS = {"verified", "deployed", "failed", "rolled_back", "running"}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("OPSCTL_CONFIG", "OPSCTL_ACTOR", "NO_COLOR", "FORCE_COLOR", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # whole run ids in the tables
    # onboarding looks for AWS credentials: never in the machine's files or instance metadata
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def write_project(root: Path, config: dict[str, Any] | None = None) -> Path:
    (root / "opsctl.yaml").write_text(yaml.safe_dump(config or base_config(), sort_keys=False))
    return root


def write_yaml(path: Path, body: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(body, sort_keys=False))


def say(step_id: str, text: str = "{{ params.image }}", *, code: int = 0) -> dict[str, Any]:
    """A runbook step that runs a tiny command (exit ``code``): a run with no platform to touch."""
    argv = ["sh", "-c", f'echo "$0"; exit {code}', text]
    return {"id": step_id, "title": step_id.title(), "uses": "command", "with": {"argv": argv}}


def one_document(result: Result) -> Any:
    """The whole stdout as one indented JSON document."""
    assert result.err == "", result.err
    document = json.loads(result.out)  # raises on a second document or on JSON Lines
    assert result.out.endswith("\n")
    if result.out.strip() not in ("[]", "{}"):
        assert result.out.startswith(("{\n  ", "[\n  ")), result.out[:40]
    return document


def json_lines(result: Result) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Events and the final summary of a run's stdout; the summary's exit code is the process's."""
    lines = result.out.splitlines()
    assert lines, result.err
    parsed = [json.loads(line) for line in lines]  # one compact object per line
    assert all(isinstance(p, dict) for p in parsed)
    *events, summary = parsed
    assert summary["exit_code"] == result.code
    assert summary["ok"] is (result.code == 0)
    return events, summary


def journal_deploy(ws: Workspace, image: str, status: str, *, env: str = "staging") -> str:
    """The run-level events `opsctl deploy` writes (DESIGN section 5), without running one."""
    run = ws.new_run_id()
    journal = ws.journal(run, "deploy", env, change_type="normal")
    journal.event("run", "started", params={"image": image}, dry_run=False)
    release = {"id": f"hvb:{image.rsplit('.', 1)[-1]}", "image": image}
    journal.event(
        "run",
        status,
        summary=f"deploy {status}",
        release_after=release if status == "succeeded" else None,
        attempted=release,
        verified=status == "succeeded",
    )
    return run


@pytest.fixture
def history(tmp_path: Path) -> list[str]:
    """Three deploys to staging, oldest first: verified, rolled back, failed."""
    write_project(tmp_path)
    ws = Workspace.load(str(tmp_path / "opsctl.yaml"), actor=ACTOR, clock=lambda: FIXED_NOW)
    return [
        journal_deploy(ws, "hvb:1.8.0", "succeeded"),
        journal_deploy(ws, "hvb:1.9.0", "rolled_back"),
        journal_deploy(ws, "hvb:1.9.1", "failed"),
    ]


# --- queries: one document ---------------------------------------------------------------------------------------


def test_local_queries_print_one_document(history: list[str]) -> None:
    opened = opsctl("--json", "incident", "open", "--severity", "P2", "--title", "slow replies", "--env", "staging")
    incident = one_document(opened)["incident"]["id"]

    for argv, check in (
        (("config", "check"), lambda d: d["service"] == "hotel-voice-bot"),
        (("runs",), lambda d: [r["run"] for r in d] == history[::-1]),
        (("releases", "staging"), lambda d: len(d) == 3),
        (("report", "--since", "7d"), lambda d: "total" in d),
        (("incident", "list"), lambda d: [i["id"] for i in d] == [incident]),
        (("incident", "show", incident), lambda d: d["id"] == incident),
        (("lock", "status", "staging"), lambda d: d == {"env": "staging", "locked": False, "holder": None}),
        (("onboard", "status"), lambda d: d["who"] == ACTOR),
    ):
        result = opsctl("--json", *argv)
        assert result.code == 0, (argv, result.err)
        assert check(one_document(result)), (argv, result.out)


@pytest.fixture
def bot(fly_api: FakeFlyApi) -> Iterator[BotServer]:
    server = BotServer(version=lambda: "1.7.0").start()
    try:
        yield server
    finally:
        server.stop()


def test_status_and_health_print_one_document(
    tmp_path: Path, fly_api: FakeFlyApi, bot: BotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", fly_api.token)
    platform = {"kind": "fly", "app": fly_api.app, "api_url": fly_api.url}
    health = {"base_url": bot.url, "version_probes": 1}
    write_project(
        tmp_path, {"service": "hvb", "environments": {"production": {"platform": platform, "health": health}}}
    )

    status = opsctl("--json", "status", "production")
    assert status.code == 0, status.err
    assert one_document(status)["current"]["image"] == "registry.fly.io/hvb:1.7.0"

    probed = opsctl("--json", "health", "production")
    document = one_document(probed)
    assert (probed.code, document["env"]) == (0 if document["ok"] else 1, "production")
    assert [p["probe"] for p in document["probes"]][:2] == ["live", "version"]


# --- runs and releases: newest first, the same status words ----------------------------------------------------


def test_runs_and_releases_list_newest_first_in_the_same_words(history: list[str]) -> None:
    runs = one_document(opsctl("--json", "runs"))
    releases = one_document(opsctl("--json", "releases", "staging"))
    assert [(r["run"], r["status"]) for r in runs] == [
        (history[2], "failed"),
        (history[1], "rolled_back"),
        (history[0], "succeeded"),
    ]
    assert [(r["run"], r["verdict"]) for r in releases] == [
        (history[2], "failed"),
        (history[1], "rolled_back"),
        (history[0], "verified"),
    ]
    assert {r["status"] for r in runs} <= RUN_STATUS_WORDS
    assert {r["verdict"] for r in releases} <= RELEASE_WORDS
    assert [r["run"] for r in one_document(opsctl("--json", "runs", "--limit", "2"))] == [history[2], history[1]]

    runs_table = opsctl("runs").out
    releases_table = opsctl("releases", "staging").out
    for table in (runs_table, releases_table):
        assert table.index(history[2]) < table.index(history[1]) < table.index(history[0])
        assert "rolled_back" in table
        assert "rolled back" not in table


# --- runs: JSON Lines ending in a summary ------------------------------------------------------------------------


def test_deploy_rollback_and_hotpatch_print_events_then_the_run_summary(tmp_path: Path) -> None:
    write_project(tmp_path)
    write_yaml(tmp_path / "runbooks" / "deploy.yaml", {"title": "Deploy", "steps": [say("roll-out")]})
    write_yaml(tmp_path / "runbooks" / "rollback.yaml", {"title": "Rollback", "steps": [say("put-back", "back")]})
    write_yaml(tmp_path / "runbooks" / "hot-patch.yaml", {"title": "Hot-patch", "steps": [say("patch")]})
    record_open_incident(tmp_path / "opsctl.yaml", "INC-7")  # a hot-patch needs an open incident

    for argv, runbook in (
        (("deploy", "staging", "--image", "hvb:1.8.0"), "deploy"),
        (("rollback", "staging"), "rollback"),
        (("hotpatch", "staging", "--image", "hvb:1.8.1", "--incident", "INC-7"), "hot-patch"),
    ):
        result = opsctl("--json", *argv)
        assert result.code == 0, result.err
        events, summary = json_lines(result)
        assert [e["event"] for e in events] == ["step.started", "step.finished"]
        assert (summary["event"], summary["runbook"], summary["env"], summary["status"]) == (
            "run.finished",
            runbook,
            "staging",
            "succeeded",
        )
        assert summary["run"].startswith("r")
        assert [s["status"] for s in summary["steps"]] == ["passed"]


def test_a_failed_run_still_ends_with_its_summary(tmp_path: Path) -> None:
    write_project(tmp_path)
    write_yaml(tmp_path / "runbooks" / "deploy.yaml", {"title": "Deploy", "steps": [say("roll-out", code=3)]})
    result = opsctl("--json", "deploy", "staging", "--image", "hvb:1.9.0")
    assert result.code == 1
    assert result.err == ""
    events, summary = json_lines(result)
    assert events[-1]["event"] == "step.finished"
    assert (summary["event"], summary["status"], summary["ok"], summary["exit_code"]) == (
        "run.finished",
        "failed",
        False,
        1,
    )


def test_a_run_that_stops_with_an_error_has_only_the_error_object(tmp_path: Path) -> None:
    write_project(tmp_path)
    result = opsctl("--json", "resume", "r20261127-101500-1a2b3c")
    assert (result.code, result.out) == (2, "")
    assert json.loads(result.err) == {
        "error": "no run r20261127-101500-1a2b3c in the audit log (see `opsctl runs`)",
        "exit_code": 2,
    }


def test_checklist_run_prints_events_then_the_run_summary(tmp_path: Path) -> None:
    write_project(tmp_path)
    item = {"id": "ok", "title": "OK", "uses": "command", "with": {"argv": ["true"]}}
    write_yaml(tmp_path / "checklists" / "smoke.yaml", {"title": "Smoke", "items": [item]})
    result = opsctl("--json", "checklist", "run", "smoke", "--env", "staging")
    assert result.code == 0, result.err
    events, summary = json_lines(result)
    assert [e["event"] for e in events] == ["checklist.started", "item.started", "item.finished", "checklist.finished"]
    assert summary == {
        "event": "run.finished",
        "runbook": "checklist:smoke",
        "env": "staging",
        **{k: events[-1][k] for k in ("checklist", "title", "status", "duration_ms", "counts", "items")},
        "exit_code": 0,
        "ok": True,
        "summary": "Smoke: passed (1 passed)",
    }


def test_onboard_prints_events_then_its_summary(tmp_path: Path) -> None:
    write_project(tmp_path)
    result = opsctl("--json", "onboard")
    assert result.code == 1, result.err  # manual items need --confirm without a terminal
    events, summary = json_lines(result)
    assert events[0]["event"] == "checklist.started"
    assert (summary["event"], summary["who"], summary["week"]) == ("onboard.finished", ACTOR, "1")


def test_audit_show_prints_the_raw_events_then_a_summary(history: list[str]) -> None:
    result = opsctl("--json", "audit", "show", "--run", history[0])
    assert result.code == 0, result.err
    events, summary = json_lines(result)
    assert [(e["run"], e["step"], e["status"]) for e in events] == [
        (history[0], "run", "started"),
        (history[0], "run", "succeeded"),
    ]
    assert all("hash" in e for e in events)  # as written in the log
    assert summary == {"event": "audit.show.finished", "ok": True, "exit_code": 0, "events": 2}

    nothing = opsctl("--json", "audit", "show", "--run", "r-none")
    assert json_lines(nothing) == ([], {"event": "audit.show.finished", "ok": True, "exit_code": 0, "events": 0})
