"""End-to-end: a rollout whose tasks stop says why (terminal, --json, audit log) and rolls back; `opsctl logs`.

The CLI runs as a subprocess against moto through :class:`EcsRewriteProxy`, a
real HTTP proxy on 127.0.0.1 that writes into moto's answers what moto cannot
produce: the new deployment, and its stopped tasks with their reasons.
CloudWatch Logs is moto's own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.cli.application import Application
from tests.e2e.harness import CONFIRMS, Project, TagBot, make_project, single_error_line
from tests.platforms.test_ecs_diagnosis import GROUP, OOM, with_awslogs, write_stream
from tests.support import moto_server as aws_support
from tests.support.clirunner import one_error, opsctl
from tests.support.ecs_tasks import PULL_ERROR, EcsRewriteProxy, pull_failure, task, tasks_answer
from tests.support.moto_server import EcsService, MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service

NEW = "ecs-svc/7777000011112222"


class BadRollout:
    """The first UpdateService starts a rollout whose tasks stop (``failed_task``); later ones pass through."""

    def __init__(self, failed_task: Any) -> None:
        self.failed_task = failed_task
        self.bad: str | None = None

    def __call__(self, operation: str, sent: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any] | None:
        if operation == "ecs.UpdateService" and self.bad is None:
            self.bad = str(sent["taskDefinition"])
            self._rolling(answer["service"])
            return answer
        if operation == "ecs.DescribeServices" and self.bad is not None:
            service = answer["services"][0] if answer.get("services") else {}
            if service.get("taskDefinition") == self.bad:
                self._rolling(service, failed=1)
                return answer
            return None
        if self.bad is not None:
            return tasks_answer(operation, sent, [self.failed_task(self.bad)])
        return None

    def _rolling(self, service: dict[str, Any], failed: int = 0) -> None:
        old = service["deployments"][0]
        service["deployments"] = [
            {
                "id": NEW,
                "status": "PRIMARY",
                "taskDefinition": self.bad,
                "desiredCount": 1,
                "runningCount": 0,
                "pendingCount": 1 - failed,
                "failedTasks": failed,
                "rolloutState": "IN_PROGRESS",
                "rolloutStateReason": "ECS deployment ecs-svc/7777000011112222 in progress.",
            },
            {**old, "status": "ACTIVE"},
        ]


@pytest.fixture
def bad_pull(tmp_path: Path, ecs_service: EcsService, aws: MotoServer) -> Iterator[Project]:
    with (
        EcsRewriteProxy(aws.endpoint_url, BadRollout(lambda td: pull_failure("0a1b2c3d", NEW, td))) as proxy,
        TagBot(ecs_service) as bot,
    ):
        project = make_project(tmp_path, ecs_service, aws, bot)
        _through(project, proxy)
        yield project


def _through(project: Project, proxy: EcsRewriteProxy) -> None:
    """Point the project's opsctl.yaml and AWS_ENDPOINT_URL at the proxy."""
    path = project.path / "opsctl.yaml"
    config = yaml.safe_load(path.read_text())
    config["environments"]["staging"]["platform"]["endpoint_url"] = proxy.url
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    project.env["AWS_ENDPOINT_URL"] = proxy.url


def test_tasks_that_cannot_pull_fail_the_rollout_with_the_reason_everywhere_and_roll_back(bad_pull: Project) -> None:
    done = bad_pull.run("--json", "deploy", "staging", "--image", "hvb:1.9.0", *CONFIRMS, "--timeout", "60s")

    assert done.returncode == 1, done.stdout + done.stderr
    *events, summary = [json.loads(line) for line in done.stdout.splitlines()]
    assert summary["status"] == "rolled_back"
    reason = f"task 0a1b2c3d stopped: container bot: {PULL_ERROR}"
    assert f"step deploy failed: ECS rollout of hvb:2 failed: {reason}" in summary["summary"]
    deploy = next(s for s in summary["steps"] if s["id"] == "deploy")
    assert deploy["diagnosis"]["reason"] == reason
    assert deploy["diagnosis"]["tasks"][0]["stop_code"] == "TaskFailedToStart"
    assert {"event": "platform.event", "message": f"task 0a1b2c3d of hvb:2 stopped: container bot: {PULL_ERROR}"} in [
        {k: e.get(k) for k in ("event", "message")} for e in events
    ]
    assert bad_pull.image() == "hvb:1.7.0"  # rolled back
    audited = [e for e in bad_pull.events(summary["run"]) if e.get("step") == "deploy" and e.get("status") == "failed"]
    assert audited[0]["detail"]["diagnosis"]["reason"] == reason
    assert bad_pull.run("audit", "verify").returncode == 0


def test_the_terminal_shows_why_the_step_failed(bad_pull: Project) -> None:
    done = bad_pull.run("deploy", "staging", "--image", "hvb:1.9.0", *CONFIRMS, "--timeout", "60s")

    assert done.returncode == 1, done.stdout + done.stderr
    shown = " ".join(done.stdout.split())  # Rich wraps long lines at the terminal's width
    assert "why step deploy failed:" in shown
    assert f"why: task 0a1b2c3d stopped: container bot: {PULL_ERROR}" in shown
    assert "task 0a1b2c3d (hvb:2) STOPPED TaskFailedToStart: container bot: CannotPullContainerError" in shown


@pytest.fixture
def oom_project(tmp_path: Path, ecs_service: EcsService, aws: MotoServer) -> Iterator[Project]:
    with_awslogs(ecs_service, aws)  # the service runs hvb:2, whose bot container logs to /ecs/hvb
    written: list[bool] = []

    def oom(td: str) -> dict[str, Any]:
        if not written:  # the task logs while the run is under way, as a real one would
            write_stream(aws, "hvb/bot/5e6f7a8b", ["starting bot", "loading model", "Killed"])
            written.append(True)
        container = {"name": "bot", "lastStatus": "STOPPED", "exitCode": 137, "reason": OOM}
        return task(
            "5e6f7a8b",
            started_by=NEW,
            task_definition=td,
            stop_code="EssentialContainerExited",
            stopped_reason="Essential container in task exited",
            containers=[container],
        )

    with EcsRewriteProxy(aws.endpoint_url, BadRollout(oom)) as proxy, TagBot(ecs_service) as bot:
        project = make_project(tmp_path, ecs_service, aws, bot)
        _through(project, proxy)
        yield project


def test_an_oom_rollout_shows_the_last_log_lines_and_logs_run_shows_that_tasks_lines(oom_project: Project) -> None:
    done = oom_project.run("--json", "deploy", "staging", "--image", "hvb:1.9.0", *CONFIRMS, "--timeout", "60s")

    assert done.returncode == 1, done.stdout + done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])
    diagnosis = next(s for s in summary["steps"] if s["id"] == "deploy")["diagnosis"]
    assert diagnosis["logs"]["lines"] == ["starting bot", "loading model", "Killed"]
    assert f"container bot exited with code 137: {OOM}" in diagnosis["reason"]

    shown = oom_project.run("logs", "staging", "--run", summary["run"])

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "/ecs/hvb (hvb/bot/), run " + summary["run"]
    assert [line.split("  ", 2)[1:] for line in lines[1:]] == [
        ["5e6f7a8b", "starting bot"],
        ["5e6f7a8b", "loading model"],
        ["5e6f7a8b", "Killed"],
    ]


# -- opsctl logs, in-process against moto ----------------------------------------------------------


def _config(tmp_path: Path, platform: dict[str, Any]) -> str:
    path = tmp_path / "opsctl.yaml"
    path.write_text(yaml.safe_dump({"service": "hvb", "environments": {"staging": {"platform": platform}}}))
    return str(path)


def test_logs_shows_recent_lines_of_the_service_oldest_first(
    tmp_path: Path, ecs_service: EcsService, aws: MotoServer
) -> None:
    with_awslogs(ecs_service, aws)
    logs = aws.client("logs")
    logs.create_log_stream(logGroupName=GROUP, logStreamName="hvb/bot/aaaa1111")
    now = int(time.time() * 1000)
    events = [(now - 7_200_000, "two hours ago"), (now - 60_000, "a minute ago"), (now - 1_000, "just now")]
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName="hvb/bot/aaaa1111",
        logEvents=[{"timestamp": ts, "message": m} for ts, m in events],
    )
    config = _config(tmp_path, ecs_service.platform_config())

    def now_app() -> Application:  # the window is measured from the real clock: moto's events are real-time
        return Application(interactive=False, actor="tester@example.com", clock=lambda: datetime.now(UTC))

    text = opsctl("--config", config, "logs", "staging", "--since", "1h", application=now_app())
    as_json = opsctl("--config", config, "--json", "logs", "staging", application=now_app())

    assert text.code == 0, text.err
    assert [line.split("  ", 2)[1:] for line in text.out.splitlines()[1:]] == [
        ["aaaa1111", "a minute ago"],
        ["aaaa1111", "just now"],
    ]
    lines = [json.loads(line) for line in as_json.out.splitlines()]
    assert [(e["event"], e.get("message")) for e in lines] == [
        ("log", "a minute ago"),
        ("log", "just now"),
        ("logs.finished", None),
    ]
    assert lines[0]["stream"] == "hvb/bot/aaaa1111"
    assert lines[-1] == {"event": "logs.finished", "ok": True, "exit_code": 0, "env": "staging", "events": 2}


def test_logs_of_a_container_without_awslogs_is_one_line_exit_2(tmp_path: Path, ecs_service: EcsService) -> None:
    result = opsctl("--config", _config(tmp_path, ecs_service.platform_config()), "logs", "staging")

    assert result.code == 2
    assert one_error(result) == (
        "error: container bot of hvb:1 does not log to CloudWatch Logs (log driver: none); "
        "opsctl logs reads the awslogs driver only"
    )


def test_logs_of_a_fly_environment_says_what_is_not_available(tmp_path: Path) -> None:
    result = opsctl("--config", _config(tmp_path, {"kind": "fly", "app": "hvb"}), "logs", "staging")

    assert result.code == 2
    assert one_error(result) == (
        "error: logs are not available for staging: the Fly Machines API serves no logs; "
        "run `fly logs --app hvb` instead"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "yesterday-ish"), "--since"),
        (("--run", "r20261130-000000-abcdef", "--follow"), "--run shows a finished window"),
        (("--run", "r20261130-000000-abcdef"), "no run r20261130-000000-abcdef in the audit log"),
    ],
    ids=["since", "run-and-follow", "unknown-run"],
)
def test_logs_bad_input_is_one_line_exit_2(
    tmp_path: Path, ecs_service: EcsService, args: tuple[str, ...], message: str
) -> None:
    result = opsctl("--config", _config(tmp_path, ecs_service.platform_config()), "logs", "staging", *args)

    assert result.code == 2
    assert message in one_error(result)


def test_logs_with_no_credentials_is_one_line(tmp_path: Path, ecs_service: EcsService) -> None:
    result = opsctl(
        "--config",
        _config(tmp_path, ecs_service.platform_config()),
        "logs",
        "staging",
        env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"},
    )

    assert result.code == 2
    single_error_line(result.err, "AWS")


def test_logs_follow_prints_new_events_once_each_until_stopped(ecs_service: EcsService, aws: MotoServer) -> None:
    import threading

    from opsctl.config import EcsPlatformConfig
    from opsctl.platforms.service_logs import LogsQuery, ServiceLogs

    with_awslogs(ecs_service, aws)
    logs = aws.client("logs")
    stream = "hvb/bot/bbbb2222"
    logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    now = int(time.time() * 1000)

    def put(ts: int, message: str) -> None:
        logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=[{"timestamp": ts, "message": message}])

    put(now - 2_000, "before")
    put(now - 1_000, "older")
    source = ServiceLogs("staging", EcsPlatformConfig.model_validate(ecs_service.platform_config()))
    stop = threading.Event()
    try:
        where = source.destination()
        lines = source.follow(where, LogsQuery(start_ms=now - 60_000), stop, interval=0.05)
        assert [next(lines).message, next(lines).message] == ["before", "older"]
        put(now, "arrived while following")  # a later read picks it up; the ones already shown are not repeated
        assert next(lines).message == "arrived while following"
        stop.set()
        assert list(lines) == []  # the next wait sees the stop: no repeats, no more reads
    finally:
        source.close()
