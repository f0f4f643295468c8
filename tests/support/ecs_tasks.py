"""Stopped and pending ECS tasks, the way real ECS describes them, for tests and benchmarks.

moto starts no tasks for a service, so the tasks of a rollout are injected:
- in-process, with botocore event handlers on the driver's own clients
  (:func:`inject_tasks`): requests still travel to moto, only the ListTasks and
  DescribeTasks answers are rewritten;
- for the CLI as a subprocess, by :class:`EcsRewriteProxy`, a real HTTP proxy on
  127.0.0.1 in front of moto that rewrites the same answers (AWS_ENDPOINT_URL
  points at the proxy).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCOUNT = "123456789012"
CLUSTER = "hvb-staging"
PULL_ERROR = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
    "docker.io/library/hvb:1.9.0: docker.io/library/hvb:1.9.0: not found"
)


def task_arn(task_id: str, cluster: str = CLUSTER) -> str:
    return f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task/{cluster}/{task_id}"


def task(
    task_id: str,
    *,
    started_by: str,
    task_definition: str,
    last_status: str = "STOPPED",
    stop_code: str | None = None,
    stopped_reason: str | None = None,
    containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One task as DescribeTasks answers it (JSON: timestamps as epoch seconds)."""
    now = datetime.now(UTC).timestamp()
    body: dict[str, Any] = {
        "taskArn": task_arn(task_id),
        "clusterArn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/{CLUSTER}",
        "taskDefinitionArn": task_definition,
        "lastStatus": last_status,
        "desiredStatus": "STOPPED" if last_status == "STOPPED" else "RUNNING",
        "startedBy": started_by,
        "createdAt": now - 5,
        "containers": containers if containers is not None else [{"name": "bot", "lastStatus": last_status}],
    }
    if last_status == "STOPPED":
        body["stoppedAt"] = now
    if stop_code:
        body["stopCode"] = stop_code
    if stopped_reason:
        body["stoppedReason"] = stopped_reason
    return body


def pull_failure(task_id: str, started_by: str, task_definition: str) -> dict[str, Any]:
    return task(
        task_id,
        started_by=started_by,
        task_definition=task_definition,
        stop_code="TaskFailedToStart",
        stopped_reason=PULL_ERROR,
        containers=[{"name": "bot", "lastStatus": "STOPPED", "reason": PULL_ERROR}],
    )


def _wanted(tasks: list[dict[str, Any]], params: dict[str, Any]) -> list[str]:
    status = params.get("desiredStatus", "RUNNING")
    return [t["taskArn"] for t in tasks if t["desiredStatus"] == status]


def inject_tasks(client: Any, tasks: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Make ``client``'s ListTasks / DescribeTasks answers show ``tasks()``; returns the calls' params seen."""
    calls: list[dict[str, Any]] = []

    def remember(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append({"operation": model.name, **params})

    def listed(parsed: dict[str, Any], **_: Any) -> None:
        parsed["taskArns"] = _wanted(tasks(), calls[-1])

    def described(parsed: dict[str, Any], **_: Any) -> None:
        asked = set(calls[-1].get("tasks", []))
        # botocore parses timestamps into datetimes; the injected ones are epoch seconds.
        parsed["tasks"] = [_parsed(t) for t in tasks() if t["taskArn"] in asked]

    events = client.meta.events
    events.register("provide-client-params.ecs.ListTasks", remember)
    events.register("provide-client-params.ecs.DescribeTasks", remember)
    events.register("after-call.ecs.ListTasks", listed)
    events.register("after-call.ecs.DescribeTasks", described)
    return calls


def _parsed(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    for key in ("createdAt", "stoppedAt"):
        if key in out:
            out[key] = datetime.fromtimestamp(out[key], tz=UTC)
    return out


Rewrite = Callable[[str, dict[str, Any], dict[str, Any]], dict[str, Any] | None]


class EcsRewriteProxy:
    """An HTTP proxy on 127.0.0.1 in front of moto; ``rewrite(operation, request, answer)`` may replace answers.

    ``operation`` is the AWS operation (``ecs.DescribeServices``, ``logs.GetLogEvents``...) read from
    the JSON protocol's ``X-Amz-Target``; returning None keeps moto's answer.
    """

    def __init__(self, upstream: str, rewrite: Rewrite) -> None:
        self.upstream = upstream.rstrip("/")
        self.rewrite = rewrite
        self.operations: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                proxy._forward(self, "POST")

            def do_GET(self) -> None:
                proxy._forward(self, "GET")

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> EcsRewriteProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _forward(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in {"host", "content-length"}}
        request = urllib.request.Request(self.upstream + handler.path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=20) as answer:
                status, answer_headers, data = answer.status, dict(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as exc:
            status, answer_headers, data = exc.code, dict(exc.headers.items()), exc.read()
        target = handler.headers.get("X-Amz-Target", "")
        operation = _operation(target)
        if operation:
            self.operations.append(operation)
            try:
                sent = json.loads(body or b"{}")
                parsed = json.loads(data or b"{}")
            except ValueError:
                sent, parsed = {}, None
            if status == 200 and isinstance(parsed, dict):
                replaced = self.rewrite(operation, sent, parsed)
                if replaced is not None:
                    data = json.dumps(replaced).encode()
        handler.send_response(status)
        for name, value in answer_headers.items():
            if name.lower() not in {"content-length", "transfer-encoding", "connection", "date", "server"}:
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def _operation(target: str) -> str:
    """``AmazonEC2ContainerServiceV20141113.DescribeServices`` -> ``ecs.DescribeServices``."""
    if not target or "." not in target:
        return ""
    prefix, name = target.rsplit(".", 1)
    service = {"AmazonEC2ContainerServiceV20141113": "ecs", "Logs_20140328": "logs"}.get(prefix, prefix)
    return f"{service}.{name}"


def tasks_answer(operation: str, sent: dict[str, Any], tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ListTasks / DescribeTasks answer showing ``tasks`` (for an :class:`EcsRewriteProxy` rewrite)."""
    if operation == "ecs.ListTasks":
        return {"taskArns": _wanted(tasks, sent)}
    if operation == "ecs.DescribeTasks":
        asked = set(sent.get("tasks", []))
        return {"tasks": [t for t in tasks if t["taskArn"] in asked], "failures": []}
    return None


def iter_lines(count: int, secret: str | None = None) -> Iterator[str]:
    """Log lines ``line 1`` .. ``line N``; the last one mentions ``secret`` when given."""
    for n in range(1, count + 1):
        yield f"line {n}" + (f" token={secret}" if secret and n == count else "")
