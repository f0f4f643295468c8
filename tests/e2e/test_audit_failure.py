"""A run and its audit log: a log that fails mid-run, or is no usable log at the start.

After the platform changed, a log that stops taking events stops the run with
exit 3 naming what the platform runs and the resume; before any change it is
exit 2 (one line naming the path). A deploy never starts on a log that is a
symlink, a fifo or a folder, or whose chain does not verify.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from opsctl.errors import ExitCode
from tests.e2e import harness
from tests.e2e.harness import Project, single_error_line
from tests.support import moto_server as aws_support

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service
project = harness.project

BREAK = "OPSCTL_TEST_BREAK_LOG"  # set: the runbook's command step puts a folder where the audit log is
BREAK_LOG = (
    "import os\n"
    f"if os.environ.get({BREAK!r}):\n"
    "    os.rename('.opsctl/audit.jsonl', '.opsctl/audit.jsonl.saved')\n"
    "    os.mkdir('.opsctl/audit.jsonl')\n"
)
LOG = ".opsctl/audit.jsonl"


def _runbook(path: Path, *, break_after_deploy: bool) -> None:
    breaker = {
        "id": "notes",
        "title": "Write notes",
        "uses": "command",
        "with": {"argv": [sys.executable, "-c", BREAK_LOG]},
    }
    deploy = {"id": "deploy", "title": "Roll out", "uses": "platform.deploy"}
    later = [deploy, breaker] if break_after_deploy else [breaker, deploy]
    steps: list[dict[str, Any]] = [{"id": "plan", "title": "Plan", "uses": "platform.plan"}, *later]
    body = {"title": "Deploy", "change_type": "standard", "steps": steps}
    (path / "runbooks").mkdir(exist_ok=True)
    (path / "runbooks" / "deploy.yaml").write_text(yaml.safe_dump(body, sort_keys=False))


def _deploy(project: Project, image: str, **env: str) -> Any:
    return project.run("deploy", "staging", "--image", image, "--timeout", "20s", env={**project.env, **env})


def _restore(project: Project) -> None:
    (project.path / LOG).rmdir()
    os.rename(project.path / f"{LOG}.saved", project.path / LOG)


def test_a_log_that_fails_after_the_deploy_stops_the_run_with_exit_3_and_the_run_resumes(project: Project) -> None:
    _runbook(project.path, break_after_deploy=True)
    done = _deploy(project, "hvb:1.8.0", **{BREAK: "1"})
    assert done.returncode == ExitCode.NEEDS_HUMAN, done.stdout + done.stderr
    assert project.image() == "hvb:1.8.0"
    _restore(project)
    events = [json.loads(line) for line in (project.path / LOG).read_text().splitlines()]
    run = events[0]["run"]
    revision = project.task_definition().split("/")[-1]
    line = single_error_line(done.stderr)
    assert line.startswith(
        f"error: cannot write the audit log ({LOG}: is a directory, expected a file) after run {run} changed "
        f"staging; stopped before anything else. The platform: it now runs {revision} (hvb:1.8.0)"
    ), line
    assert line.endswith(
        "Repair the log (`opsctl audit verify` checks it), see `opsctl status staging`, then continue with "
        f"`opsctl resume {run}`"
    ), line
    assert [e["step"] for e in events][-2:] == ["deploy", "notes"]  # the notes step never finished
    assert project.run("audit", "verify").returncode == 0
    resumed = project.run("resume", run)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert project.image() == "hvb:1.8.0"


def test_a_log_that_fails_before_any_change_is_one_line_with_exit_2(project: Project) -> None:
    _runbook(project.path, break_after_deploy=False)
    done = _deploy(project, "hvb:1.8.0", **{BREAK: "1"})
    assert done.returncode == ExitCode.BAD_INPUT, done.stdout + done.stderr
    assert single_error_line(done.stderr) == f"error: audit log {LOG}: is a directory, expected a file"
    assert project.image() == "hvb:1.7.0"


def test_a_deploy_does_not_start_on_a_folder_a_symlink_or_a_fifo(project: Project) -> None:
    _runbook(project.path, break_after_deploy=False)
    state = project.path / ".opsctl"
    state.mkdir()
    cases = {
        "folder": (lambda p: p.mkdir(), f"error: audit log {LOG}: is a directory, expected a file"),
        "symlink": (
            lambda p: os.symlink("elsewhere.jsonl", p),
            f"error: audit log {LOG}: is a symbolic link (to elsewhere.jsonl); the audit log must be a regular "
            "file: replace the link with the file itself",
        ),
        "fifo": (os.mkfifo, f"error: audit log {LOG}: is a fifo (named pipe), not a regular file"),
    }
    for make, expected in cases.values():
        make(project.path / LOG)
        done = _deploy(project, "hvb:1.8.0")
        assert done.returncode == ExitCode.BAD_INPUT, done.stdout + done.stderr
        assert single_error_line(done.stderr) == expected
        path = project.path / LOG
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    assert not (state / "elsewhere.jsonl").exists()
    assert project.image() == "hvb:1.7.0"


def test_a_deploy_does_not_start_on_a_broken_chain_and_says_how_to_recover(project: Project) -> None:
    _runbook(project.path, break_after_deploy=False)
    assert _deploy(project, "hvb:1.8.0").returncode == 0
    log = project.path / LOG
    lines = log.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"status":"', b'"status":"X', 1)
    log.write_bytes(b"".join(lines))
    done = _deploy(project, "hvb:1.9.0")
    assert done.returncode == ExitCode.BAD_INPUT, done.stdout + done.stderr
    assert single_error_line(done.stderr) == (
        f"error: the audit log {LOG} does not verify: line 3: content does not match its hash (the line was "
        "edited); nothing was started. `opsctl audit verify` shows it; to go on, move the damaged log aside "
        f"(mv {LOG} {LOG}.damaged) or restore it from a backup or the S3 audit mirror"
    )
    assert project.image() == "hvb:1.8.0"
    os.rename(log, project.path / f"{LOG}.damaged")
    assert _deploy(project, "hvb:1.9.0").returncode == 0
    assert project.image() == "hvb:1.9.0"
