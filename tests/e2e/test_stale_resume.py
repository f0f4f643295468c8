"""Runs that know they are stale (issue 13, item 5): kill -9 shows as interrupted; a superseded run is not resumed.

A deploy runs as a real subprocess against moto ECS whose rollout never completes (running=0), is
killed with SIGKILL mid-rollout, and the CLI (subprocess, or in-process with a terminal) is asked
about it afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opsctl.cli.app import app
from opsctl.cli.application import Application
from opsctl.workspace import Workspace
from tests.e2e.harness import ACTOR, CONFIRMS, Project, TagBot, make_project, single_error_line, wait_for
from tests.support import moto_server as aws_support
from tests.support.moto_server import MotoServer, create_ecs_service

moto_server = aws_support.moto_server
aws = aws_support.aws

NO_OFFER = "error: no interrupted run to resume (see `opsctl runs`)"


@pytest.fixture
def stuck(tmp_path: Path, aws: MotoServer) -> Iterator[Project]:
    """A service whose rollout never completes (moto: running=0), so a deploy waits until killed."""
    service = create_ecs_service(aws, running=0)
    with TagBot(service) as bot:
        yield make_project(tmp_path, service, aws, bot)


def _kill9_mid_rollout(p: Project, image: str = "hvb:1.8.0") -> str:
    """Start a deploy, SIGKILL it once the service points at the new image; its run id."""
    proc = p.start("deploy", "staging", "--image", image, *CONFIRMS, "--timeout", "60s")
    wait_for(lambda: p.image() == image, what="the service update")
    proc.kill()
    proc.communicate(timeout=10)
    assert proc.returncode == -9
    (run,) = [r["run"] for r in p.runs() if r.get("image") == image]
    return str(run)


def _make_stable(p: Project, running: int = 1) -> None:
    """Recreate the service on its current task definition with ``running`` tasks (moto fixes it at creation)."""
    client = p.service.client()
    current = p.task_definition()
    client.delete_service(cluster=p.service.cluster, service=p.service.service, force=True)
    old = os.environ.get("MOTO_ECS_SERVICE_RUNNING")
    os.environ["MOTO_ECS_SERVICE_RUNNING"] = str(running)
    try:
        client.create_service(
            cluster=p.service.cluster, serviceName=p.service.service, taskDefinition=current, desiredCount=1
        )
    finally:
        if old is not None:
            os.environ["MOTO_ECS_SERVICE_RUNNING"] = old


def _status_of(p: Project, run: str) -> str:
    return str(next(r["status"] for r in p.runs() if r["run"] == run))


def _started(p: Project, run: str) -> str:
    started = next(r["started"] for r in p.runs() if r["run"] == run)
    return f"{str(started)[:16].replace('T', ' ')} UTC"


def _in_terminal(p: Project, *args: str, answer: str) -> Any:
    terminal = Application(interactive=True, actor=ACTOR, no_color=True)
    return CliRunner().invoke(
        app, ["--config", str(p.path / "opsctl.yaml"), *args], obj=terminal, input=answer, env={"COLUMNS": "250"}
    )


def test_a_killed_deploy_is_interrupted_and_a_later_deploy_supersedes_it(stuck: Project) -> None:
    p = stuck
    first = _kill9_mid_rollout(p)

    # The log still says "running" (no terminal event), but its lock went with its process.
    assert _status_of(p, first) == "interrupted"
    status = p.json("status", "staging")
    assert [(r["run"], r["status"]) for r in status["runs"]] == [(first, "interrupted")]
    assert status["lock"] is None
    table = p.run("runs", "--env", "staging")
    assert table.returncode == 0, table.stderr
    assert any(first in line and "interrupted" in line for line in table.stdout.splitlines()), table.stdout
    (shown,) = [r for r in p.runs() if r["run"] == first]
    assert shown["summary"] == f"stopped without a verdict (its process is gone); see `opsctl resume {first}`"

    _make_stable(p)
    second = p.deploy("hvb:1.9.0")
    assert second.returncode == 0, second.stdout + second.stderr
    later = next(r["run"] for r in p.runs() if r.get("image") == "hvb:1.9.0")

    refused = p.run("resume", first)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert single_error_line(refused.stderr) == (
        f"error: staging was changed by run {later} (deploy hvb:1.9.0 by {ACTOR}) after run {first} "
        "was interrupted; start a new run instead"
    )
    assert p.image() == "hvb:1.9.0"  # nothing was verified or rolled back
    assert _status_of(p, later) == "succeeded"
    assert not [e for e in p.events(first) if e.get("status") == "resumed"]

    # The only interrupted run is superseded: there is nothing to offer.
    offer = p.run("resume")
    assert offer.returncode == 2, offer.stdout + offer.stderr
    assert single_error_line(offer.stderr) == NO_OFFER


def test_resume_refuses_when_the_platform_was_changed_by_hand(stuck: Project) -> None:
    p = stuck
    run = _kill9_mid_rollout(p)
    client = p.service.client()
    td = client.describe_task_definition(taskDefinition=p.task_definition())["taskDefinition"]
    containers = [{**c, "image": "hvb:2.0.0"} for c in td["containerDefinitions"]]
    arn = client.register_task_definition(family="hvb", containerDefinitions=containers)["taskDefinition"]
    client.update_service(cluster=p.service.cluster, service=p.service.service, taskDefinition=arn["taskDefinitionArn"])

    done = p.run("resume", run)

    assert done.returncode == 2, done.stdout + done.stderr
    assert single_error_line(done.stderr) == (
        f"error: staging was changed after run {run} was interrupted: it now runs hvb:3 (hvb:2.0.0), "
        "but the run expected hvb:1 (hvb:1.7.0) or hvb:1.8.0; start a new run instead"
    )
    assert p.image() == "hvb:2.0.0"


def test_resume_without_a_run_names_the_latest_interrupted_one(stuck: Project) -> None:
    p = stuck
    run = _kill9_mid_rollout(p)
    what = f"run {run} (deploy hvb:1.8.0 by {ACTOR} in staging, started {_started(p, run)})"
    named = f"error: no run named; the latest interrupted run is {what}: resume it with `opsctl resume {run}`"

    for flags in ((), ("--yes",)):  # without a terminal, and with --yes: never resumed unnamed
        done = p.run("resume", *flags)
        assert done.returncode == 2, done.stdout + done.stderr
        assert single_error_line(done.stderr) == named
    with_yes = _in_terminal(p, "resume", "--yes", answer="")
    assert with_yes.exit_code == 2, with_yes.stdout + with_yes.stderr
    assert with_yes.stderr.strip() == named
    assert _status_of(p, run) == "interrupted"

    declined = _in_terminal(p, "resume", answer="n\n")
    assert declined.exit_code == 0, declined.stdout + declined.stderr
    lines = [line.rstrip() for line in declined.stdout.splitlines()]
    assert lines[0] == f"latest interrupted run: {what}"
    # The answer is not echoed here (no real terminal): the prompt and the next line meet.
    assert lines[1:] == [f"  resume it? [y/n] (n): not resumed: run {run} stays interrupted"]
    assert _status_of(p, run) == "interrupted"

    _make_stable(p)
    accepted = _in_terminal(p, "resume", answer="y\n")
    assert accepted.exit_code == 0, accepted.stdout + accepted.stderr
    assert _status_of(p, run) == "succeeded"
    assert p.run("audit", "verify").returncode == 0


def test_an_interrupted_rollback_resumes_to_the_target_it_planned(tmp_path: Path, aws: MotoServer) -> None:
    service = create_ecs_service(aws)
    with TagBot(service) as bot:
        p = make_project(tmp_path, service, aws, bot)
        assert p.deploy("hvb:1.8.0").returncode == 0
        assert p.deploy("hvb:1.9.0-bad", "--no-rollback").returncode == 1
        _make_stable(p, running=0)  # the rollback's rollout will never complete
        proc = p.start("rollback", "staging", "--timeout", "60s")
        wait_for(lambda: p.image() == "hvb:1.8.0", what="the service update")
        proc.kill()
        proc.communicate(timeout=10)
        (run,) = [r["run"] for r in p.runs() if r["runbook"] == "rollback"]
        assert _status_of(p, run) == "interrupted"

        _make_stable(p)
        done = p.run("resume", run)

        # What runs now is the target the run planned, not a release to leave: it is followed, then verified.
        assert done.returncode == 0, done.stdout + done.stderr
        assert p.image() == "hvb:1.8.0"
        assert _status_of(p, run) == "succeeded"


def test_a_dry_run_is_not_resumed(stuck: Project) -> None:
    ws = Workspace.load(str(stuck.path / "opsctl.yaml"), actor=ACTOR)
    journal = ws.journal("r20261127-101500-0a0b0c", "deploy", "staging")
    journal.event("run", "started", params={"image": "hvb:1.8.0"}, dry_run=True)

    done = stuck.run("resume", "r20261127-101500-0a0b0c")

    assert done.returncode == 2, done.stdout + done.stderr
    assert single_error_line(done.stderr) == (
        "error: run r20261127-101500-0a0b0c was a dry run, which changes nothing; run the command again instead"
    )
    assert stuck.image() == "hvb:1.7.0"


def test_a_run_that_still_runs_stays_running(stuck: Project) -> None:
    p = stuck
    proc = p.start("deploy", "staging", "--image", "hvb:1.8.0", *CONFIRMS, "--timeout", "60s")
    try:
        wait_for(lambda: p.image() == "hvb:1.8.0", what="the service update")
        (run,) = [r["run"] for r in p.runs()]
        assert _status_of(p, run) == "running"
        offer = p.run("resume")
        assert offer.returncode == 2, offer.stdout + offer.stderr
        assert single_error_line(offer.stderr) == NO_OFFER
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    assert _status_of(p, run) == "interrupted"
