"""End-to-end: the CLI process skips the interpreter's teardown, and a run loses nothing by it.

Each case runs `python -m opsctl deploy` as a real process with the shared
DynamoDB lock and the S3 audit mirror on moto, then looks at what the process
left behind once it has exited: every audit line (the chain verifies and ends
with the run's verdict), the lock released, the mirror's upload done or its
queue entry kept on disk, and the process's own output complete.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import tests.support.team as team_support
from tests.e2e.harness import Project, TagBot, make_project
from tests.support import moto_server as aws_support
from tests.support.moto_server import EcsService, MotoServer
from tests.support.team import BUCKET, DEAD_ENDPOINT, Team

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service
atomic_dynamodb = team_support.atomic_dynamodb
team = team_support.team

TRIVIAL = "title: {title}\nitems:\n  - {{id: ok, title: Trivially done, uses: manual}}\n"


def _share(project: Project, team: Team, s3_endpoint: str) -> None:
    path = project.path / "opsctl.yaml"
    config = yaml.safe_load(path.read_text())
    shared = team.config(s3_endpoint=s3_endpoint)
    config["locks"], config["audit"] = shared["locks"], shared["audit"]
    path.write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.fixture
def shared_project(tmp_path: Path, team: Team, ecs_service: EcsService, aws: MotoServer) -> Iterator[Project]:
    with TagBot(ecs_service) as bot:
        verify = {"image": False, "roles": False, "secrets": False, "logs": False}
        project = make_project(tmp_path, ecs_service, aws, bot, verify=verify)
        (tmp_path / "checklists").mkdir()
        for name in ("pre-deploy", "post-deploy"):
            (tmp_path / "checklists" / f"{name}.yaml").write_text(TRIVIAL.format(title=f"Trivial {name}"))
        _share(project, team, team.endpoint_url)
        yield project


def _deploy(project: Project, image: str) -> tuple[int, list[dict[str, object]]]:
    done = project.run("deploy", "staging", "--image", image, "--confirm", "ok", "--json", timeout=120)
    lines = [json.loads(line) for line in done.stdout.splitlines()]  # every line whole: nothing cut at exit
    return done.returncode, lines


def _audit_lines(project: Project) -> list[dict[str, object]]:
    text = (project.path / ".opsctl" / "audit.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_after_the_process_exits_the_log_the_lock_and_the_mirror_are_complete(
    shared_project: Project, team: Team
) -> None:
    code, output = _deploy(shared_project, "hvb:1.8.0")
    assert code == 0, output
    assert output[-1]["event"] == "run.finished"
    run_id = str(output[-1]["run"])
    verdicts = [e for e in _audit_lines(shared_project) if e["step"] == "run"]
    assert [(e["run"], e["status"]) for e in verdicts] == [(run_id, "started"), (run_id, "succeeded")]
    verified = shared_project.run("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert shared_project.json("lock", "status", "staging") == {"env": "staging", "locked": False, "holder": None}
    assert list((shared_project.path / ".opsctl" / "mirror" / "queue").iterdir()) == []  # uploaded, then dequeued
    keys = team.object_keys("runs/")
    assert len(keys) == 1
    assert keys[0].rsplit("/", 1)[-1].startswith(f"{run_id}.")
    body = team.s3().get_object(Bucket=BUCKET, Key=keys[0])["Body"].read().decode()
    assert body.splitlines()[-1] == (shared_project.path / ".opsctl" / "audit.jsonl").read_text().splitlines()[-1]


def test_a_queued_upload_is_on_disk_when_the_process_has_exited(shared_project: Project, team: Team) -> None:
    _share(shared_project, team, DEAD_ENDPOINT)  # S3 unreachable: the run's upload waits in the queue
    code, output = _deploy(shared_project, "hvb:1.8.0")
    assert code == 0, output
    run_id = str(output[-1]["run"])
    queue = shared_project.path / ".opsctl" / "mirror" / "queue"
    entries = [json.loads(p.read_text()) for p in queue.iterdir()]
    assert [e["run"] for e in entries] == [run_id]
    warned = [e for e in _audit_lines(shared_project) if e["step"] != "run" and e["run"] == run_id][-1]
    assert warned["status"] == "warned"
    assert "audit mirror is 1 run(s) behind" in str(warned["summary"])
    assert shared_project.json("lock", "status", "staging") == {"env": "staging", "locked": False, "holder": None}
    assert team.object_keys() == []


def test_a_failed_run_exits_1_with_its_rollback_journaled_and_the_lock_released(
    shared_project: Project, team: Team
) -> None:
    (shared_project.path / "checklists" / "post-deploy.yaml").write_text(
        "title: Failing post-deploy\nitems:\n"
        '  - {id: fails, title: Always fails, uses: command, with: {argv: ["false"]}}\n'
    )
    code, output = _deploy(shared_project, "hvb:1.8.0")
    assert code == 1, output[-3:]
    assert shared_project.image() == "hvb:1.7.0"  # rolled back
    verdict = [e for e in _audit_lines(shared_project) if e["step"] == "run"][-1]
    assert verdict["status"] == "rolled_back"
    assert shared_project.run("audit", "verify").returncode == 0
    assert shared_project.json("lock", "status", "staging") == {"env": "staging", "locked": False, "holder": None}
    assert len(team.object_keys("runs/")) == 1
