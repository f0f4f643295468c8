"""``opsctl logs ENV``: the service's CloudWatch Logs (ECS), recent or followed, or those of one run."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import typer

from opsctl.cli.common import app_of
from opsctl.cli.completion import complete_env, complete_run
from opsctl.errors import BadInput

RUN_SLACK = timedelta(minutes=1)  # a run's logs: from its start to a minute after its end


def logs(
    ctx: typer.Context,
    env: str = typer.Argument(..., autocompletion=complete_env, help="Environment, e.g. staging."),
    since: str = typer.Option("10m", "--since", help="Events newer than this: a duration like 10m, 2h, or a date."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new events until Ctrl-C."),
    run: str | None = typer.Option(
        None, "--run", autocompletion=complete_run, help="The logs of this run's tasks, over the run's time."
    ),
) -> None:
    """Show the service's logs from CloudWatch Logs (ECS: the awslogs group of the task definition).

    Lines come from FilterLogEvents over the configured container's log group
    and stream prefix, oldest first. With --run, the window is that run's time
    and, when the run diagnosed failed tasks, only their streams. Fly's Machines
    API serves no logs: for a Fly environment this says so (exit 2); use
    `fly logs`. --json prints one JSON line per event, then a summary line.

    \b
    Examples:
      opsctl logs staging
      opsctl logs staging --since 1h
      opsctl logs production --follow
      opsctl logs staging --run r20261130-101500-1a2b3c
    """
    from opsctl.audit.query import parse_since
    from opsctl.platforms.service_logs import LogsQuery, ServiceLogs, not_available

    application = app_of(ctx)
    ws = application.workspace()
    environment = ws.config.environment(env)
    if environment.platform.kind != "ecs":
        raise not_available(env, environment.platform)
    if run is not None and follow:
        raise BadInput("--run shows a finished window: it cannot be combined with --follow")
    start = parse_since(since, ws.clock())
    query = LogsQuery(start_ms=_ms(start))
    if run is not None:
        query = _run_query(ws, env, run)
    source = ServiceLogs(env, environment.platform, ws.redactor)
    count = 0
    try:
        where = source.destination(query.task_definition)
        if not application.json:
            scope = f"run {run}" if run else f"since {since}"
            application.output.show(f"[dim]{where.group} ({where.stream_prefix or 'all streams'}), {scope}[/]")
        lines = source.follow(where, query, threading.Event()) if follow else source.read(where, query)
        for line in lines:
            count += 1
            _print(application, line)
    finally:
        source.close()
    if application.json:
        summary = {"event": "logs.finished", "ok": True, "exit_code": 0, "env": env, "events": count}
        application.output.json_line(summary)
    elif count == 0:
        application.output.show("no log events in that window")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _print(application: Any, line: Any) -> None:
    if application.json:
        application.output.json_line({"event": "log", **line.as_dict()})
        return
    from opsctl.cli import output

    task = line.stream.rsplit("/", 1)[-1][:8]
    output.text(f"{line.as_dict()['ts']}  {task}  {line.message}")


def _run_query(ws: Any, env: str, run: str) -> Any:
    """The window, task definition and failed tasks of one run, from the audit log."""
    from opsctl.audit.query import run_events
    from opsctl.platforms.service_logs import LogsQuery

    events = [e for e in run_events(ws.audit, run) if e.get("run") == run]
    if not events:
        raise BadInput(f"no run {run} in the audit log")
    if events[0].get("env") != env:
        raise BadInput(f"run {run} is a run of {events[0].get('env')}, not {env}")
    times = [datetime.fromisoformat(str(e["ts"]).replace("Z", "+00:00")) for e in events if e.get("ts")]
    finished = any(e.get("step") == "run" and e.get("status") not in ("started",) for e in events)
    end = max(times) + RUN_SLACK if finished else None
    task_definition: str | None = None
    tasks: list[str] = []
    for event in events:
        detail = event.get("detail") or {}
        if isinstance(detail, dict) and detail.get("task_definition"):
            # The deploy's revision: the first one named (a rollback step names the one it put back).
            task_definition = task_definition or str(detail["task_definition"])
            diagnosis = detail.get("diagnosis") or {}
            tasks += [str(t["task"]) for t in diagnosis.get("tasks") or [] if isinstance(t, dict) and t.get("task")]
    return LogsQuery(_ms(min(times)), _ms(end) if end else None, task_definition, tuple(dict.fromkeys(tasks)))


def register(app: typer.Typer) -> None:
    app.command()(logs)
