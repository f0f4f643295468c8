"""End-to-end: the opsctl CLI as a subprocess against moto ECS and the sandbox bot on 127.0.0.1."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsctl.locks.base import LockInfo
from opsctl.locks.file import FileLockBackend
from tests.e2e import harness
from tests.e2e.harness import CONFIRMS, Project, TagBot, audit_text, make_project, single_error_line, wait_for
from tests.support import moto_server as aws_support
from tests.support.moto_server import EcsService, MotoServer, create_ecs_service

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service
project = harness.project


@pytest.fixture
def stuck_project(tmp_path: Path, aws: MotoServer) -> Iterator[Project]:
    """A service whose rollout never completes (moto: running=0)."""
    service = create_ecs_service(aws, running=0)
    with TagBot(service) as bot:
        yield make_project(tmp_path, service, aws, bot)


def _make_stable(p: Project) -> None:
    """Recreate the service on its current task definition with one running task (moto fixes it at creation)."""
    client = p.service.client()
    current = p.task_definition()
    client.delete_service(cluster=p.service.cluster, service=p.service.service, force=True)
    old = os.environ.get("MOTO_ECS_SERVICE_RUNNING")
    os.environ["MOTO_ECS_SERVICE_RUNNING"] = "1"
    try:
        client.create_service(
            cluster=p.service.cluster, serviceName=p.service.service, taskDefinition=current, desiredCount=1
        )
    finally:
        if old is not None:
            os.environ["MOTO_ECS_SERVICE_RUNNING"] = old


def _last_run(p: Project) -> dict:
    runs = p.runs()
    assert runs, "no runs recorded"
    return runs[0]  # newest first


def test_good_deploy_is_verified_and_audited(project: Project) -> None:
    done = project.deploy("hvb:1.8.0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert project.image() == "hvb:1.8.0"
    run = _last_run(project)
    assert run["status"] == "succeeded"
    releases = project.json("releases", "staging")
    assert releases[0]["image"] == "hvb:1.8.0"
    assert releases[0]["verdict"] == "verified"
    assert releases[0]["run"] == run["run"]
    verify = project.run("audit", "verify")
    assert verify.returncode == 0, verify.stderr
    steps = harness.step_ids(project.events(run["run"]), "deploy")
    for step in ("plan", "pre-deploy", "baseline", "deploy", "post-deploy", "run"):
        assert step in steps, steps
    # a finished run cannot be resumed
    again = project.run("resume", run["run"])
    assert again.returncode == 2
    single_error_line(again.stderr, "already finished")


def test_bad_image_rolls_back_automatically(project: Project) -> None:
    assert project.deploy("hvb:1.8.0").returncode == 0
    done = project.deploy("hvb:1.9.0-bad")
    assert done.returncode == 1, done.stdout + done.stderr
    assert project.image() == "hvb:1.8.0"
    run = _last_run(project)
    assert run["status"] == "rolled_back"
    releases = project.json("releases", "staging")
    bad = [r for r in releases if r["image"] == "hvb:1.9.0-bad"]
    assert bad, releases
    assert all(r["verdict"] != "verified" for r in bad), releases
    events = project.events(run["run"])
    assert "rollback" in harness.step_ids(events, "rollback"), events
    assert project.run("audit", "verify").returncode == 0


def test_manual_rollback_default_and_to(project: Project) -> None:
    assert project.deploy("hvb:1.8.0").returncode == 0
    bad = project.deploy("hvb:1.9.0-bad", "--no-rollback")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert project.image() == "hvb:1.9.0-bad"
    done = project.run("rollback", "staging", "--timeout", "20s")
    assert done.returncode == 0, done.stdout + done.stderr
    assert project.image() == "hvb:1.8.0"  # the last verified release, never the bad one
    done = project.run("rollback", "staging", "--to", "hvb:1", "--timeout", "20s")
    assert done.returncode == 0, done.stdout + done.stderr
    assert project.image() == "hvb:1.7.0"
    assert project.run("audit", "verify").returncode == 0


def test_dry_run_changes_nothing(project: Project) -> None:
    client = project.service.client()
    before = (project.task_definition(), client.list_task_definitions()["taskDefinitionArns"])
    done = project.deploy("hvb:1.8.0", "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    after = (project.task_definition(), client.list_task_definitions()["taskDefinitionArns"])
    assert after == before
    assert project.image() == "hvb:1.7.0"


def test_lock_contention_status_and_forced_release(project: Project) -> None:
    backend = FileLockBackend(project.path / ".opsctl" / "locks")
    info = LockInfo.for_run("staging", "r-holder", "holder@example.com", "deploy", "r-holder")
    handle = backend.acquire(info)
    try:
        done = project.deploy("hvb:1.8.0")
        assert done.returncode == 4, done.stdout + done.stderr
        single_error_line(done.stderr, "holder@example.com", "r-holder")
        assert project.image() == "hvb:1.7.0"
        status = project.json("lock", "status", "staging")
        assert status["locked"] is True
        assert status["holder"]["actor"] == "holder@example.com"
        refused = project.run("lock", "release", "staging")
        assert refused.returncode == 2
        single_error_line(refused.stderr, "--force")
        alive = project.run("lock", "release", "staging", "--force")  # the holder (this process) is alive here
        assert alive.returncode == 2
        single_error_line(alive.stderr, "r-holder (pid ", "on this host) is still alive", "--yes")
        released = project.run("lock", "release", "staging", "--force", "--yes")
        assert released.returncode == 0, released.stderr
        assert project.json("lock", "status", "staging")["locked"] is False
    finally:
        handle.release()
    assert project.deploy("hvb:1.8.0").returncode == 0


def test_protected_environment_needs_yes_without_terminal(
    tmp_path: Path, ecs_service: EcsService, aws: MotoServer
) -> None:
    with TagBot(ecs_service) as bot:
        p = make_project(tmp_path, ecs_service, aws, bot, protected=True)
        (tmp_path / ".gitignore").write_text(".opsctl/\n")
        harness.git_repo(tmp_path)  # protected environments may have git gates; keep them green
        done = p.deploy("hvb:1.8.0")
        assert done.returncode == 2, done.stdout + done.stderr
        single_error_line(done.stderr, "--yes")
        assert p.image() == "hvb:1.7.0"


def test_sigint_mid_rollout_then_resume(stuck_project: Project) -> None:
    p = stuck_project
    proc = p.start("deploy", "staging", "--image", "hvb:1.8.0", *CONFIRMS, "--timeout", "60s")
    wait_for(
        lambda: '"step": "deploy"' in audit_text(p) or '"step":"deploy"' in audit_text(p),
        what="the deploy step to start",
    )
    wait_for(lambda: p.image() == "hvb:1.8.0", what="the service update")
    out, err = harness.interrupt(proc, signal.SIGINT)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert '"status": "interrupted"' in audit_text(p) or '"status":"interrupted"' in audit_text(p)
    run = _last_run(p)
    assert run["status"] == "interrupted"
    assert f"opsctl resume {run['run']}" in err
    assert p.json("lock", "status", "staging")["locked"] is False
    _make_stable(p)
    done = p.run("resume", run["run"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert _last_run(p)["status"] == "succeeded"
    assert p.run("audit", "verify").returncode == 0


def test_kill9_mid_rollout_keeps_audit_and_resume(stuck_project: Project) -> None:
    p = stuck_project
    proc = p.start("deploy", "staging", "--image", "hvb:1.8.0", *CONFIRMS, "--timeout", "60s")
    wait_for(lambda: p.image() == "hvb:1.8.0", what="the service update")
    proc.kill()
    proc.communicate(timeout=10)
    verify = p.run("audit", "verify")
    if verify.returncode != 0:
        assert verify.returncode == 1, verify.stderr
        assert "truncat" in (verify.stdout + verify.stderr).lower(), verify.stderr
    run = _last_run(p)
    assert run["status"] in ("running", "interrupted")
    assert p.json("lock", "status", "staging")["locked"] is False
    _make_stable(p)
    done = p.run("resume", run["run"])
    if done.returncode != 0:
        assert done.returncode == 2, done.stdout + done.stderr
        single_error_line(done.stderr)
    else:
        assert _last_run(p)["status"] == "succeeded"
    assert p.run("audit", "verify").returncode == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("deploy", "nowhere", "--image", "hvb:1.8.0"), "nowhere"),
        (("deploy", "staging", "--image", "hvb 1.8"), "'hvb 1.8' is not a valid image reference"),
        (("rollback", "staging", "--to", "hvb:99"), "hvb:99"),
        (("resume", "r20990101-000000-abcdef"), "r20990101-000000-abcdef"),
        (("hotpatch", "staging", "--image", "hvb:1.8.1"), "--incident"),
    ],
    ids=["unknown-env", "bad-image", "unknown-to", "unknown-run", "hotpatch-no-incident"],
)
def test_bad_input_exits_2_with_one_line(project: Project, args: tuple[str, ...], fragment: str) -> None:
    done = project.run(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    single_error_line(done.stderr, fragment)
    assert project.image() == "hvb:1.7.0"


def test_missing_aws_credentials_exits_2(project: Project) -> None:
    env = {k: v for k, v in project.env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    done = project.run("deploy", "staging", "--image", "hvb:1.8.0", *CONFIRMS, "--timeout", "10s", env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    single_error_line(done.stderr, "credentials")
    assert project.image() == "hvb:1.7.0"
