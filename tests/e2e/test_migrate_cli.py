"""Migrations as a deploy step, end to end: the CLI in-process against moto ECS (FARGATE services) on 127.0.0.1.

What a migration task does (exit code, log lines) is scripted in moto's backend
(:mod:`tests.support.migrations`); the project is a real git repository with
staging and protected production (:mod:`tests.e2e.policy.support`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.policy.conftest import _isolated
from tests.e2e.policy.support import Project, ServiceBot, output, step_events
from tests.support import moto_server as aws_support
from tests.support.cli_env import CONFIRMS
from tests.support.clirunner import one_error, opsctl
from tests.support.migrations import TaskScript, create_fargate_service, scripted_tasks
from tests.support.moto_server import MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws
__all__ = ["_isolated"]  # the change-management suite's isolation, autouse here too

MIGRATE = {"command": ["alembic", "upgrade", "head"], "timeout": "1m"}
FAILING_LOGS = [
    "INFO  [alembic.runtime.migration] Running upgrade 41 -> 42, add guests.locale",
    "sqlalchemy.exc.ProgrammingError: column guests.locale already exists",
]


@pytest.fixture
def project(tmp_path: Path, aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """staging and protected production as FARGATE services on moto (RunTask needs their network), on hvb:1.7.0."""
    staging, _ = create_fargate_service(aws, cluster="hvb-staging")
    production, _ = create_fargate_service(aws, cluster="hvb-production", family="hvb-prod")
    with ServiceBot(staging) as staging_bot, ServiceBot(production) as production_bot:
        made = Project(tmp_path / "project", staging, production, staging_bot, production_bot)
        made.setup()
        monkeypatch.chdir(made.path)
        yield made


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch, aws: MotoServer) -> Iterator[TaskScript]:
    with scripted_tasks(monkeypatch, aws.region) as made:
        yield made


def migration_events(project: Project, run: str) -> list[dict[str, object]]:
    return step_events(project.events(run), "migration")


def test_a_migration_that_exits_1_stops_the_deploy_before_the_service_is_updated(
    project: Project, script: TaskScript
) -> None:
    project.configure(staging={"migrate": MIGRATE})
    script.exit("hvb:1.8.0", 1, FAILING_LOGS)

    result = project.deploy("staging", "hvb:1.8.0")

    assert result.exit_code == 1, output(result)
    assert project.image("staging") == "hvb:1.7.0"
    (task,) = script.started or [print(output(result))]
    assert (task.cluster, task.image) == ("hvb-staging", "hvb:1.8.0")
    failure = (
        f"the migration `alembic upgrade head` failed (task {task.id}): "
        "container bot exited with code 1; Essential container in task exited"
    )
    assert failure in result.stdout
    assert "why step migrate failed:" in result.stdout
    assert "  sqlalchemy.exc.ProgrammingError: column guests.locale already exists" in result.stdout
    run = project.last_run()
    events = project.events(run)
    assert step_events(events, "deploy") == []  # the rollout never started
    (step,) = [e for e in step_events(events, "migrate") if e["status"] != "started"]
    assert (step["status"], step["summary"]) == ("failed", failure)
    assert step["detail"]["migration"]["logs"] == FAILING_LOGS
    assert step["detail"]["diagnosis"]["logs"] == {"lines": FAILING_LOGS}
    started, ended = migration_events(project, run)
    assert (started["status"], started["image"], started["tag"]) == ("started", "hvb:1.8.0", "1.8.0")
    assert (ended["status"], ended["exit_code"], ended["unit"]) == ("failed", 1, task.id)
    assert project.run_end(run)["status"] == "failed"


def test_a_successful_migration_runs_before_the_rollout_and_the_json_carries_it(
    project: Project, script: TaskScript
) -> None:
    project.configure(staging={"migrate": MIGRATE})
    script.exit("hvb:1.8.0", 0, ["INFO  [alembic.runtime.migration] Running upgrade 41 -> 42, add guests.locale"])

    result = project.invoke("--json", "deploy", "staging", "--image", "hvb:1.8.0", *CONFIRMS, "--timeout", "20s")

    assert result.exit_code == 0, output(result)
    assert project.image("staging") == "hvb:1.8.0"
    (task,) = script.started
    assert task.overrides == {"containerOverrides": [{"name": "bot", "command": ["alembic", "upgrade", "head"]}]}
    assert task.launch_type == "FARGATE"
    assert task.network is not None
    assert task.task_definition == "hvb:2"  # the revision the rollout then used
    run = project.last_run()
    steps = [e["step"] for e in project.events(run) if e.get("kind") == "step" and e["status"] != "started"]
    assert steps.index("migrate") < steps.index("deploy")
    document = json.loads(result.stdout.strip().splitlines()[-1])
    (step,) = [s for s in document["steps"] if s["id"] == "migrate"]
    assert (step["status"], step["summary"]) == (
        "passed",
        f"the migration `alembic upgrade head` exited 0 (task {task.id}, hvb:2)",
    )
    assert [e["status"] for e in migration_events(project, run)] == ["started", "succeeded"]


def test_deploy_production_for_an_image_whose_migration_never_ran_in_staging_fails_the_migrations_item(
    project: Project, script: TaskScript
) -> None:
    # hvb:1.8.0 was verified on staging before migrations were a deploy step there: promotion allows it...
    project.configure(production={"requires": {"promoted_from": "staging"}})
    assert project.deploy("staging", "hvb:1.8.0").exit_code == 0
    project.configure(
        staging={"migrate": MIGRATE}, production={"migrate": MIGRATE, "requires": {"promoted_from": "staging"}}
    )

    result = project.deploy("production", "hvb:1.8.0")

    # ... but its migration never ran there, so the migrations item fails and nothing changes.
    assert result.exit_code == 1, output(result)
    assert project.image("production") == "hvb:1.7.0"
    assert script.started == []
    (item,) = [
        e for e in step_events(project.events(project.last_run()), "pre-deploy/migrations") if e["status"] != "started"
    ]
    assert (item["status"], item["summary"]) == (
        "failed",
        "the migrations of hvb:1.8.0 never ran on staging; "
        "deploy it there first: opsctl deploy staging --image hvb:1.8.0",
    )


def test_an_image_migrated_on_staging_passes_the_item_and_migrates_production_too(
    project: Project, script: TaskScript
) -> None:
    project.configure(
        staging={"migrate": MIGRATE}, production={"migrate": MIGRATE, "requires": {"promoted_from": "staging"}}
    )
    assert project.deploy("staging", "hvb:1.8.0").exit_code == 0
    staging_run = project.last_run()
    (staging_migrated,) = [e for e in migration_events(project, staging_run) if e["status"] == "succeeded"]

    result = project.deploy("production", "hvb:1.8.0")

    assert result.exit_code == 0, output(result)
    assert project.image("production") == "hvb:1.8.0"
    assert [t.cluster for t in script.started] == ["hvb-staging", "hvb-production"]
    events = project.events(project.last_run())
    (item,) = [e for e in step_events(events, "pre-deploy/migrations") if e["status"] != "started"]
    assert item["summary"] == (
        f"the migrations of hvb:1.8.0 succeeded on staging (run {staging_run}, {staging_migrated['ts']})"
    )


@pytest.mark.parametrize(
    ("migrate", "line", "message"),
    [
        (
            "{command: [], timeout: 10m}",
            5,
            "environments -> staging -> migrate -> command: "
            "give the migration command as a list of words, like [alembic, upgrade, head]",
        ),
        (
            '{command: [alembic, " ", head]}',
            5,
            "environments -> staging -> migrate -> command: "
            "every word of the command must be non-empty, like [alembic, upgrade, head]",
        ),
        (
            "{command: [alembic, upgrade, head], timeout: soon}",
            5,
            "environments -> staging -> migrate -> timeout: must be a duration like 30s or 5m",
        ),
        (
            "{command: [alembic, upgrade, head], shell: true}",
            5,
            "environments -> staging -> migrate -> shell: unknown key; check the spelling (see `opsctl config schema`)",
        ),
    ],
)
def test_a_bad_migrate_block_is_one_line_naming_where_exit_2(
    tmp_path: Path, migrate: str, line: int, message: str
) -> None:
    config = tmp_path / "opsctl.yaml"
    config.write_text(
        "service: hvb\n"
        "environments:\n"
        "  staging:\n"
        "    platform: {kind: ecs, region: eu-west-1, cluster: c, service: s, container: bot}\n"
        f"    migrate: {migrate}\n"
    )

    result = opsctl("--config", str(config), "config", "check")

    assert result.code == 2
    assert one_error(result) == f"error: opsctl.yaml:{line}: {message}"  # named relative to where opsctl runs
