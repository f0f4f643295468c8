"""What a whole-process `opsctl deploy` imports: only what its steps use (issue 19, item 3).

A deploy with trivial checklists (no git gate, no template, no notification)
needs no GitPython, no Jinja2, no Rich and no action family its steps do not
name. The process reports its modules on the way out (an ``atexit`` handler,
which the CLI's quick exit still runs).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Project, TagBot, git_repo, make_project
from tests.support import moto_server as aws_support
from tests.support.moto_server import EcsService, MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service

TRIVIAL = "title: {title}\nitems:\n  - {{id: ok, title: Trivially done, uses: manual}}\n"
NOT_NEEDED = {"git", "jinja2", "rich", "pygments", "click", "github"}

_RUNNER = """
import atexit, json, runpy, sys
def report():
    tops = sorted({m.split(".")[0] for m in sys.modules})
    families = sorted(m for m in sys.modules if m.startswith("opsctl.actions."))
    sys.__stderr__.write("MODULES " + json.dumps({"top": tops, "families": families}) + "\\n")
atexit.register(report)
sys.argv = ["opsctl", *sys.argv[1:]]
runpy.run_module("opsctl", run_name="__main__", alter_sys=True)
"""


@pytest.fixture
def trivial_project(tmp_path: Path, ecs_service: EcsService, aws: MotoServer) -> Iterator[Project]:
    with TagBot(ecs_service) as bot:
        # The pre-flight families read a registry, IAM, Secrets Manager and CloudWatch: not wanted here.
        verify = {"image": False, "roles": False, "secrets": False, "logs": False}
        project = make_project(tmp_path, ecs_service, aws, bot, verify=verify)
        (tmp_path / "checklists").mkdir()
        for name in ("pre-deploy", "post-deploy"):
            (tmp_path / "checklists" / f"{name}.yaml").write_text(TRIVIAL.format(title=f"Trivial {name}"))
        yield project


def _deploy(project: Project, image: str) -> tuple[subprocess.CompletedProcess[str], dict[str, list[str]]]:
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, "deploy", "staging", "--image", image, "--confirm", "ok", "--json"],
        cwd=project.path,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = next(line for line in done.stderr.splitlines() if line.startswith("MODULES "))
    return done, json.loads(report.removeprefix("MODULES "))


def test_a_trivial_deploy_imports_only_what_its_steps_use(trivial_project: Project) -> None:
    done, modules = _deploy(trivial_project, "hvb:1.8.0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert trivial_project.image() == "hvb:1.8.0"
    assert sorted(NOT_NEEDED & set(modules["top"])) == []
    # The runbook's own actions and the rollback runbook's (checked before any change) load; families no
    # step names do not: no git, github, notify, onboarding, http, command, audit gates or monitoring.
    families = set(modules["families"])
    assert {"opsctl.actions.manual", "opsctl.actions.metrics", "opsctl.actions.platform"} <= families
    unused = {
        f"opsctl.actions.{name}"
        for name in (
            "git",
            "gitgates",
            "github",
            "notify",
            "onboarding",
            "http",
            "command",
            "audit_gates",
            "monitoring",
        )
    }
    assert sorted(families & unused) == []


def test_a_checklist_that_uses_git_and_a_template_still_gets_them(trivial_project: Project) -> None:
    (trivial_project.path / "checklists" / "pre-deploy.yaml").write_text(
        "title: Pre-deploy\nitems:\n"
        "  - {id: ok, title: Trivially done, uses: manual}\n"
        "  - {id: clean, title: Clean tree, uses: git.clean, when: '{{ env.name == \"staging\" }}'}\n"
    )
    git_repo(trivial_project.path)
    done, modules = _deploy(trivial_project, "hvb:1.8.0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {"git", "jinja2"} <= set(modules["top"])  # the gate needed GitPython, its `when:` Jinja2
    assert "opsctl.actions.git" in modules["families"]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    clean = next(e for e in events if e["event"] == "item.finished" and e["id"] == "clean")
    assert (clean["status"], clean["summary"]) == ("passed", "working tree is clean")
