"""A rollback you can see (issue 13, item 4): the plan names the target, why it was chosen, and the diff.

The CLI runs as a subprocess against moto ECS and the sandbox bot (tests/e2e/harness.py); the
protected environment's confirmation runs in-process with a terminal, answered through stdin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opsctl.cli.app import app
from opsctl.cli.application import Application
from tests.e2e import harness
from tests.e2e.harness import ACTOR, Project, TagBot, make_project, single_error_line
from tests.support import moto_server as aws_support
from tests.support.moto_server import EcsService, MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service
project = harness.project

PLAN_TITLE = "-> Choose the release to put back and show the diff (reads only)"
ASK_FOR_TO = "name one with --to RELEASE (see `opsctl releases staging`)"


def _runs(p: Project) -> list[dict[str, Any]]:
    return list(reversed(p.runs()))  # oldest first


def _when(run: dict[str, Any]) -> str:
    """How a target's reason names the moment of a run: ``2026-11-27 10:15 UTC``."""
    return f"{str(run['finished'])[:16].replace('T', ' ')} UTC"


def _diff(old_id: str, new_id: str, old_image: str, new_image: str) -> list[str]:
    """The task definition diff a rollback of the test service shows: only the image differs."""
    return [
        f"--- {old_id}",
        f"+++ {new_id}",
        "@@ -9,7 +9,7 @@",
        "         }",
        "       ],",
        '       "essential": true,',
        f'-      "image": "{old_image}",',
        f'+      "image": "{new_image}",',
        '       "memory": 256,',
        '       "mountPoints": [],',
        '       "name": "bot",',
    ]


def _verified_then_failed(p: Project, *bad_flags: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """hvb:2 (hvb:1.8.0) verified, then hvb:3 (hvb:1.9.0-bad) failed; returns both runs."""
    assert p.deploy("hvb:1.8.0").returncode == 0
    bad = p.deploy("hvb:1.9.0-bad", *bad_flags)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    good_run, bad_run = _runs(p)[-2:]
    return good_run, bad_run


def test_dry_run_names_the_target_why_and_the_diff(project: Project) -> None:
    good, _ = _verified_then_failed(project, "--no-rollback")
    why = f"last verified release, deployed by run {good['run']} on {_when(good)}"

    done = project.run("rollback", "staging", "--dry-run")

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    start = lines.index(PLAN_TITLE)
    assert lines[start : start + 16] == [
        PLAN_TITLE,
        "   target: hvb:2 (hvb:1.8.0)",
        f"   why: {why}",
        *(f"   {line}" for line in _diff("hvb:3", "hvb:2", "hvb:1.9.0-bad", "hvb:1.8.0")),
        f"PASS  step plan  roll back hvb:3 (hvb:1.9.0-bad) -> hvb:2 (hvb:1.8.0): {why}",
        "-> Put the verified release back",
    ]
    assert project.image() == "hvb:1.9.0-bad"  # a dry run changes nothing


def test_a_protected_environments_confirmation_shows_target_why_and_diff(
    tmp_path: Path, ecs_service: EcsService, aws: MotoServer
) -> None:
    with TagBot(ecs_service) as bot:
        p = make_project(tmp_path, ecs_service, aws, bot)
        good, _ = _verified_then_failed(p, "--no-rollback")
        harness.write_config(tmp_path, ecs_service, bot.url, protected=True)  # protected from now on
        why = f"last verified release, deployed by run {good['run']} on {_when(good)}"
        terminal = Application(interactive=True, actor=ACTOR, no_color=True)

        done = CliRunner().invoke(
            app,
            ["--config", str(tmp_path / "opsctl.yaml"), "rollback", "staging", "--timeout", "20s"],
            obj=terminal,
            input="staging\n",
            env={"COLUMNS": "250"},
        )

        assert done.exit_code == 0, done.stdout + done.stderr
        lines = [line.rstrip() for line in done.stdout.splitlines()]
        plan = f"staging is protected. Plan: roll back hvb:3 (hvb:1.9.0-bad) -> hvb:2 (hvb:1.8.0): {why}"
        shown = [
            "   target: hvb:2 (hvb:1.8.0)",
            f"   why: {why}",
            *(f"   {line}" for line in _diff("hvb:3", "hvb:2", "hvb:1.9.0-bad", "hvb:1.8.0")),
        ]
        start = lines.index(shown[0])
        assert lines[start : start + len(shown)] == shown
        assert lines.index(plan) > start + len(shown), "the diff comes before the question"
        assert p.image() == "hvb:1.8.0"


@pytest.mark.parametrize(
    ("flags", "what"), [(("--no-rollback",), "failed verification"), ((), "was rolled back")], ids=["failed", "rolled"]
)
def test_a_bad_target_is_refused_unless_forced(project: Project, flags: tuple[str, ...], what: str) -> None:
    _, bad = _verified_then_failed(project, *flags)
    history = f"hvb:3 (hvb:1.9.0-bad) {what} in run {bad['run']} on {_when(bad)}"
    before = project.image()

    refused = project.run("rollback", "staging", "--to", "hvb:3", "--dry-run")

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert single_error_line(refused.stderr) == (
        f"error: --to hvb:3: {history}; roll back to it anyway with --to hvb:3 --force-target"
    )
    forced = project.run("rollback", "staging", "--to", "hvb:3", "--force-target", "--dry-run")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert f"   why: named with --to and --force-target: {history}" in forced.stdout.splitlines()
    assert project.image() == before


def test_force_target_needs_to(project: Project) -> None:
    done = project.run("rollback", "staging", "--force-target")
    assert done.returncode == 2, done.stdout + done.stderr
    assert single_error_line(done.stderr) == (
        "error: --force-target needs --to RELEASE: it only lets you name a release known to be bad"
    )


@pytest.mark.parametrize("dry_run", [(), ("--dry-run",)], ids=["run", "dry-run"])
def test_no_verified_release_asks_for_to(project: Project, dry_run: tuple[str, ...]) -> None:
    done = project.run("rollback", "staging", "--timeout", "20s", *dry_run)

    assert done.returncode == 2, done.stdout + done.stderr
    assert single_error_line(done.stderr) == f"error: no verified release of staging in the audit log; {ASK_FOR_TO}"
    assert project.image() == "hvb:1.7.0"  # not "the previous revision", silently


def test_only_the_running_release_verified_asks_for_to(project: Project) -> None:
    assert project.deploy("hvb:1.8.0").returncode == 0

    done = project.run("rollback", "staging", "--timeout", "20s")

    assert done.returncode == 2, done.stdout + done.stderr
    assert single_error_line(done.stderr) == (
        f"error: no verified release of staging to roll back to other than the one running; {ASK_FOR_TO}"
    )
    assert project.image() == "hvb:1.8.0"
