"""``opsctl onboard`` and ``opsctl onboard status`` through the Typer app, in-process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from opsctl.cli.app import app
from opsctl.cli.application import Application
from tests.onboarding.support import ALICE, BOB, project
from tests.support.cli_env import CONFIRMS


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def opsctl(*args: str, actor: str = ALICE, interactive: bool = False, input: str | None = None) -> Result:
    obj = Application(interactive=interactive, actor=actor)
    result = CliRunner().invoke(app, list(args), obj=obj, input=input)
    assert "Traceback" not in result.stdout + result.stderr
    return Result(result.exit_code, result.stdout, result.stderr)


def test_without_a_terminal_manual_items_name_confirm(tmp_path: Path) -> None:
    project(tmp_path)
    done = opsctl("onboard")
    assert done.code == 1, done.out + done.err
    needs = "FAIL  read-runbooks  needs a person to confirm: run in a terminal, or pass --confirm read-runbooks"
    assert needs in done.out
    assert "PASS  dev-tools  Python 3." in done.out
    assert "Onboarding week 1: Foundation: not done yet" in done.out
    assert "next: Read all operational runbooks (read-runbooks) — run `opsctl onboard`" in done.out


def test_in_a_terminal_a_person_confirms_and_sees_the_runbook_docs(tmp_path: Path) -> None:
    project(tmp_path)
    done = opsctl("onboard", interactive=True, input="y\ny\nn\nno access yet\n")
    assert done.code == 1, done.out + done.err  # the AWS credentials are missing
    for shown in (
        "Read all operational runbooks",
        "runbooks/deployment.md",
        "runbooks/rollback.md",
        "runbooks/hot-patch.md",
        "opsctl checklist list",
    ):
        assert shown in done.out
    status = json.loads(opsctl("--json", "onboard", "status").out)
    week = {i["id"]: i["state"] for i in status["weeks"][0]["items"]}
    assert (week["read-runbooks"], week["architecture"], week["dashboards"]) == ("done", "done", "open")


def test_status_json_shows_each_week_and_what_is_next(tmp_path: Path) -> None:
    project(tmp_path)
    confirms = ("--confirm", "read-runbooks", "--confirm", "architecture", "--confirm", "dashboards")
    assert opsctl("onboard", *confirms).code == 1  # the AWS credentials are missing
    status = opsctl("--json", "onboard", "status")
    assert status.code == 0, status.err
    data = json.loads(status.out)
    assert data["who"] == ALICE
    assert data["path"] == str(tmp_path / ".opsctl" / "onboarding" / "alice@example.com.json")
    weeks = {w["week"]: (w["done"], w["total"], w["complete"]) for w in data["weeks"]}
    assert weeks == {"1": (5, 6, False), "2": (0, 4, False), "3": (0, 4, False), "ongoing": (0, 4, False)}
    assert data["next"] == {
        "week": "1",
        "id": "aws-credentials",
        "title": "Set up local development environment: AWS credentials work",
    }
    aws = next(i for i in data["weeks"][0]["items"] if i["id"] == "aws-credentials")
    assert (aws["machine"], aws["state"], aws["last_status"]) == (True, "open", "failed")

    for args in (("--json", "onboard", "status", "--who", BOB), ("--json", "onboard", "--who", BOB, "status")):
        bob = json.loads(opsctl(*args).out)
        assert (bob["who"], bob["weeks"][0]["done"]) == (BOB, 0)
    mentor = opsctl("onboard", "status", "--who", BOB)
    hint = f"next: Read all operational runbooks (read-runbooks) — run `opsctl onboard --who {BOB}`"
    assert mentor.out.splitlines()[-1] == hint


def test_status_draws_a_bar_per_week_and_the_next_item(tmp_path: Path) -> None:
    project(tmp_path)
    opsctl("onboard", "--confirm", "read-runbooks")
    status = opsctl("onboard", "status")
    assert status.code == 0, status.err
    lines = status.out.splitlines()
    assert lines[0] == f"Onboarding of {ALICE}"
    for label, count in (("Week 1", "3/6"), ("Week 2", "0/4"), ("Week 3", "0/4"), ("Ongoing", "0/4")):
        assert any(line.startswith(label) and count in line for line in lines), status.out
    assert "✓ Read all operational runbooks (read-runbooks)  confirmed" in status.out
    assert "last check: no AWS credentials found" in status.out
    assert lines[-1] == "next: Understand system architecture (architecture) — run `opsctl onboard`"


def test_json_run_ends_with_one_summary_line(tmp_path: Path) -> None:
    project(tmp_path)
    done = opsctl("--json", "onboard", "--week", "ongoing", "--confirm", "cross-training")
    assert done.code == 1
    events = [json.loads(line) for line in done.out.splitlines()]
    assert events[0]["event"] == "checklist.started"
    last = events[-1]
    assert (last["event"], last["week"], last["ok"], last["who"]) == ("onboard.finished", "ongoing", False, ALICE)
    assert last["progress"]["weeks"][3]["done"] == 1


def test_bad_week_exits_2_with_one_line(tmp_path: Path) -> None:
    for args in (("onboard", "--week", "7"), ("onboard", "-w", "week-9")):
        done = opsctl(*args)  # no opsctl.yaml here: the option is checked first
        week = args[-1]
        assert (done.code, done.out, done.err) == (2, "", f"error: --week {week}: choose 1, 2, 3 or ongoing\n")


def test_bad_confirm_exits_2_with_one_line(tmp_path: Path) -> None:
    project(tmp_path)
    cases = {
        ("--confirm", "nope"): "--confirm nope: no onboarding item has that id (see `opsctl onboard status`)",
        ("--confirm", "aws-credentials"): "--confirm aws-credentials: opsctl checks that item itself; it cannot "
        "be confirmed by hand",
        ("--week", "1", "--confirm", "on-call"): "--confirm on-call: that item is in week 3, not week 1",
    }
    for args, message in cases.items():
        done = opsctl("onboard", *args)
        assert (done.code, done.err) == (2, f"error: {message}\n")


def test_a_real_supervised_deploy_completes_the_week_3_item(tmp_path: Path) -> None:
    from opsctl.sandbox.demo import open_sandbox

    with open_sandbox() as sandbox:
        config = str(sandbox.config_path)
        confirms = CONFIRMS
        before = opsctl("--config", config, "onboard", "--week", "3")
        assert "FAIL  supervised-deploy  no supervised staging deploy by alice@example.com" in before.out
        deploy = opsctl(
            "--config",
            config,
            "deploy",
            "staging",
            "--image",
            "hvb:1.8.0",
            "--supervisor",
            BOB,
            "--timeout",
            "30s",
            *confirms,
        )
        assert deploy.code == 0, deploy.out + deploy.err
        after = opsctl("--config", config, "onboard", "--week", "3")
        assert f"PASS  supervised-deploy  deploy of hvb:1.8.0 to staging by {ALICE}" in after.out, after.out
        assert f"supervised by {BOB}" in after.out
