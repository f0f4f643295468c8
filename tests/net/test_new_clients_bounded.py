"""Every new HTTP client against servers that hang, stream forever, answer 10 MiB, or answer garbage.

One real misbehaving server on 127.0.0.1 (tests/support/hostile.py) plays the
OCI registry, PagerDuty (REST and Events), Statuspage, Slack's Web API,
Prometheus, Alertmanager, GitHub issues and the Kubernetes API server. For
each: the call ends by its deadline (bound asserted with generous slack), the
body read stops at its cap, and what comes back is one line without a
traceback, with the exit code the command documents (5: unreachable before
any change; 1 or 2 otherwise). A server that hangs is asked once: a hung
server stays hung, and a retry would only multiply the wait.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.errors import ExitCode, OpsctlError
from opsctl.net import jsonapi
from opsctl.net.jsonapi import ApiError, JsonApi
from opsctl.net.retry import RetryPolicy
from opsctl.values.durations import format_duration
from opsctl.values.redact import Redactor
from tests.support.context import FIXED_NOW
from tests.support.hostile import HostileServer

# Short timeouts so that a hung server costs seconds; the bounds below are derived from them.
FAST = RetryPolicy(attempts=3, backoff=0.05, max_delay=0.1, budget=1.0, connect_timeout=1.0, read_timeout=1.0)
DEADLINE = FAST.request_deadline  # one request, connect to last byte
SLACK = 5.0  # thread scheduling, one last socket read, interpreter start of nothing: generous on purpose
WAITED = format_duration(DEADLINE)
HUGE = b'{"data": "' + b"x" * (10 * 1024 * 1024) + b'"}'  # 10 MiB of JSON

# The misbehaviours of the hostile server, by what a client meets.
HANG = "/drip-headers"  # status line and headers one byte at a time: never an answer, never a read timeout
ENDLESS = "/endless"
DRIP = "/drip"  # headers at once, then a body one byte at a time, forever


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer(drip=0.2) as hostile:
        yield hostile


@pytest.fixture(autouse=True)
def fast_json_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonapi, "DEFAULT_POLICY", FAST)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """What ``call`` returned or raised, and how long it took."""
    started = time.monotonic()
    try:
        result: Any = call()
    except Exception as exc:  # the assertions look at the type and message
        result = exc
    return result, time.monotonic() - started


def one_line(error: object) -> str:
    text = str(error)
    assert "\n" not in text, text
    assert "Traceback" not in text, text
    return text


def api(server: HostileServer, name: str = "Test") -> JsonApi:
    return JsonApi(name, server.base, {"Authorization": "Bearer tok-9f8e7d6c5b4a"}, scrub=Redactor().text)


def asked(server: HostileServer, path: str) -> int:
    return sum(1 for r in server.requests if r.path.split("?", 1)[0] == path)


# -- JsonApi: PagerDuty REST, Statuspage, Slack Web API, GitHub issues ----------------------------


def pagerduty_oncalls(server: HostileServer) -> Any:
    from opsctl.oncall import pagerduty

    with api(server, "PagerDuty") as client:
        return pagerduty.shifts(client, "PABC123", FIXED_NOW)


def statuspage_create(server: HostileServer) -> Any:
    from opsctl.notify import statuspage

    with api(server, "Statuspage") as client:
        return statuspage.create(client, "page1", "INC-1", "down", severity="P1", components={"bot": "c1"})


def slack_create(server: HostileServer) -> Any:
    from opsctl.notify import slack_channel

    with api(server, "Slack") as client:
        return slack_channel.open_channel(client, "inc-1-bot-down", ["ana@example.com"], "INC-1")


def github_issue(server: HostileServer) -> Any:
    from opsctl.git import issues

    with api(server, "GitHub") as client:
        return issues.open_issue(client, "acme/hvb", "INC-1", "down", ["incident"])


JSON_CLIENTS: dict[str, tuple[Callable[[HostileServer], Any], str, str]] = {
    # name: (call, path it asks, method and path as messages name them)
    "pagerduty": (pagerduty_oncalls, "/oncalls", "PagerDuty GET /oncalls"),
    "statuspage": (statuspage_create, "/pages/page1/incidents", "Statuspage POST /pages/page1/incidents"),
    "slack": (slack_create, "/conversations.create", "Slack POST /conversations.create"),
    "github": (github_issue, "/repos/acme/hvb/issues", "GitHub POST /repos/acme/hvb/issues"),
}


@pytest.mark.parametrize("name", sorted(JSON_CLIENTS))
def test_json_api_hung_server_is_asked_once_and_ends_by_the_deadline(server: HostileServer, name: str) -> None:
    call, path, what = JSON_CLIENTS[name]
    server.misbehave(path, HANG)
    error, took = timed(lambda: call(server))
    assert isinstance(error, ApiError), error
    assert one_line(error) == f"{what} failed after 1 attempt(s): no answer within the timeout"
    assert error.unreachable
    assert asked(server, path) == 1
    assert took < DEADLINE + SLACK


@pytest.mark.parametrize("name", sorted(JSON_CLIENTS))
def test_json_api_dripping_body_ends_by_the_deadline(server: HostileServer, name: str) -> None:
    call, path, what = JSON_CLIENTS[name]
    server.misbehave(path, DRIP)
    error, took = timed(lambda: call(server))
    assert isinstance(error, ApiError), error
    # The drip declares 1,000,000 bytes: under the cap, so it is the deadline that ends it.
    assert one_line(error) == f"{what} failed after 1 attempt(s): no answer within the timeout"
    assert took < DEADLINE + SLACK


@pytest.mark.parametrize("name", sorted(JSON_CLIENTS))
def test_json_api_endless_body_stops_at_the_cap(server: HostileServer, name: str) -> None:
    call, path, what = JSON_CLIENTS[name]
    server.misbehave(path, ENDLESS)
    error, took = timed(lambda: call(server))
    assert isinstance(error, ApiError), error
    assert one_line(error) == f"{what}: response too large (over 1 MiB)"
    assert took < DEADLINE + SLACK


@pytest.mark.parametrize("name", sorted(JSON_CLIENTS))
def test_json_api_ten_mib_of_json_is_refused_unread(server: HostileServer, name: str) -> None:
    call, path, what = JSON_CLIENTS[name]
    server.answer(path, 200, HUGE, {"Content-Type": "application/json"})
    error, took = timed(lambda: call(server))
    assert isinstance(error, ApiError), error
    assert one_line(error) == f"{what}: response too large (over 1 MiB)"
    assert took < SLACK


NOT_JSON = {
    "pagerduty": "PagerDuty answered GET /oncalls without an oncalls list",
    "statuspage": "Statuspage answered without an incident id",
    "slack": "Slack conversations.create: no ok in the answer",
    "github": "GitHub answered without an issue number",
}


@pytest.mark.parametrize("name", sorted(JSON_CLIENTS))
def test_json_api_html_instead_of_json_is_one_line(server: HostileServer, name: str) -> None:
    call, path, _ = JSON_CLIENTS[name]
    server.answer(path, 200, "<html><body>Welcome to nginx!</body></html>", {"Content-Type": "text/html"})
    error, _ = timed(lambda: call(server))
    assert isinstance(error, ApiError), error
    assert one_line(error) == NOT_JSON[name]


WRONG_SHAPE: dict[str, tuple[Any, str]] = {
    "pagerduty": ({"oncalls": "everyone"}, "PagerDuty answered GET /oncalls without an oncalls list"),
    "statuspage": (["id", "x"], "Statuspage answered without an incident id"),
    "slack": ({"ok": True, "channel": "C123"}, "Slack conversations.create answered without a channel id"),
    "github": ({"number": "seven"}, "GitHub answered without an issue number"),
}


@pytest.mark.parametrize("name", sorted(JSON_CLIENTS))
def test_json_api_wrong_shape_json_is_one_line(server: HostileServer, name: str) -> None:
    call, path, _ = JSON_CLIENTS[name]
    body, message = WRONG_SHAPE[name]
    server.answer(path, 200, body)
    error, _ = timed(lambda: call(server))
    assert isinstance(error, ApiError), error
    assert one_line(error) == message


@pytest.mark.parametrize(
    "entry",
    [
        {"user": {"name": "Ana"}, "escalation_level": 1e400},
        {"user": {"name": "Ana"}, "escalation_level": 1, "start": "yesterday-ish"},
        {"user": {"name": "Ana"}, "escalation_level": 1, "end": 12},
        {"user": "Ana", "escalation_level": 1},
        ["not", "an", "entry"],
    ],
)
def test_pagerduty_unreadable_oncall_entries_are_skipped(server: HostileServer, entry: Any) -> None:
    text = json.dumps({"oncalls": [entry, {"user": {"name": "Ben"}, "escalation_level": 1}], "more": False})
    server.answer("/oncalls", 200, text.replace('"escalation_level": Infinity', '"escalation_level": 1e400'))
    found = pagerduty_oncalls(server)
    assert [(s.level, s.person.name) for s in found] == [(1, "Ben")]


def test_pagerduty_endless_pagination_stops(server: HostileServer) -> None:
    server.answer("/oncalls", 200, {"oncalls": [], "more": True})
    assert pagerduty_oncalls(server) == []
    assert asked(server, "/oncalls") == 5


def test_slack_user_lookup_of_the_wrong_shape_is_a_problem_not_a_crash(server: HostileServer) -> None:
    server.answer("/conversations.create", 200, {"ok": True, "channel": {"id": "C1", "name": "inc-1"}})
    server.answer("/users.lookupByEmail", 200, {"ok": True, "user": "U1"})
    server.answer("/chat.postMessage", 200, {"ok": True, "ts": "1.2"})
    server.answer("/pins.add", 200, {"ok": True})
    channel = slack_create(server)
    assert channel.id == "C1"
    assert channel.invited == ()
    assert channel.problems == ("Slack users.lookupByEmail answered without a user id (ana@example.com)",)


@pytest.mark.parametrize("number", [1e400, -3, True, "12"])
def test_github_issue_number_must_be_a_positive_whole_number(server: HostileServer, number: Any) -> None:
    text = json.dumps({"number": number, "html_url": "https://github.com/acme/hvb/issues/1"})
    server.answer(
        "/repos/acme/hvb/issues", 201, text.replace("Infinity", "1e400"), {"Content-Type": "application/json"}
    )
    error, _ = timed(lambda: github_issue(server))
    assert isinstance(error, ApiError), error
    assert one_line(error) == "GitHub answered without an issue number"


# -- PagerDuty Events API (notify): a delivery warning, never a failure --------------------------


def pagerduty_event(server: HostileServer) -> Any:
    from opsctl.notify import deliver

    request = deliver.Request("pagerduty", "PagerDuty alert event", server.url("/v2/enqueue"), {"a": 1})
    with deliver.open_client(FAST) as client:
        return deliver.post_json(client, request, "deploy.failed", FAST)


def test_pagerduty_events_hung_server_is_a_warning_within_the_retry_bound(server: HostileServer) -> None:
    server.misbehave("/v2/enqueue", HANG)
    result, took = timed(lambda: pagerduty_event(server))
    assert result.status == "warned"
    assert one_line(result.summary) == (
        "could not deliver deploy.failed to PagerDuty alert event after 3 attempt(s): no answer within the timeout"
    )
    # A page is worth a retry (the Events API dedupes by dedup_key): attempts x deadline + the wait budget.
    assert took < FAST.attempts * DEADLINE + FAST.budget + SLACK


@pytest.mark.parametrize("path", [ENDLESS, "/huge"])
def test_pagerduty_events_oversized_answer_is_accepted_when_2xx(server: HostileServer, path: str) -> None:
    if path == ENDLESS:
        server.misbehave("/v2/enqueue", path)
    else:
        server.answer("/v2/enqueue", 202, HUGE, {"Content-Type": "application/json"})
    result, took = timed(lambda: pagerduty_event(server))
    assert result.status == "sent"
    assert one_line(result.summary).endswith("; response too large (over 1 MiB))")
    assert took < DEADLINE + SLACK


# -- Prometheus (the error budget) and Alertmanager -----------------------------------------------


def prometheus_counts(server: HostileServer) -> Any:
    from opsctl.config import PrometheusSeries
    from opsctl.health.client import HealthClient
    from opsctl.health.promql import TrafficQueries
    from opsctl.slo.prometheus import PrometheusCounts

    source = PrometheusCounts(
        HealthClient(server.base, timeout=DEADLINE, retries=2), TrafficQueries(PrometheusSeries())
    )
    try:
        return source.counts(300.0, FIXED_NOW)
    finally:
        source.close()


def prometheus_series(server: HostileServer) -> Any:
    from opsctl.config import PrometheusSeries
    from opsctl.health.client import HealthClient
    from opsctl.health.promql import TrafficQueries
    from opsctl.slo.prometheus import PrometheusCounts

    source = PrometheusCounts(
        HealthClient(server.base, timeout=DEADLINE, retries=2), TrafficQueries(PrometheusSeries())
    )
    try:
        return source.bad_series(datetime(2026, 11, 1, tzinfo=FIXED_NOW.tzinfo), FIXED_NOW, 3600.0)
    finally:
        source.close()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (HANG, "no answer from {base}/api/v1/query within the timeout (" + WAITED + ")"),
        (DRIP, "no answer from {base}/api/v1/query within the timeout (" + WAITED + ")"),
        (ENDLESS, "{base}/api/v1/query: response too large (over 1 MiB)"),
    ],
)
def test_prometheus_misbehaving_is_unavailable_within_the_deadline(
    server: HostileServer, path: str, message: str
) -> None:
    server.misbehave("/api/v1/query", path)
    error, took = timed(lambda: prometheus_counts(server))
    assert isinstance(error, OpsctlError), error
    assert error.exit_code is ExitCode.UNAVAILABLE
    where = f"Prometheus at {server.base} cannot be reached: "
    assert one_line(error) == where + message.format(base=server.base)
    assert asked(server, "/api/v1/query") == 1
    assert took < DEADLINE + SLACK


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (HUGE, "Prometheus at {base} cannot be reached: {base}/api/v1/query: response too large (over 1 MiB)"),
        ("<html>", "Prometheus at {base} did not answer JSON (HTTP 200)"),
        ([1, 2], "Prometheus at {base} answered something that is not a query result (HTTP 200)"),
        (
            {"status": "success", "data": {"resultType": "vector", "result": [7]}},
            "Prometheus at {base} answered a series that is not a sample: 7",
        ),
        (
            {"status": "success", "data": {"resultType": "vector", "result": [{"value": "12"}]}},
            "Prometheus at {base} answered a series that is not a sample: {{'value': '12'}}",
        ),
    ],
)
def test_prometheus_garbage_answers_are_one_line(server: HostileServer, body: Any, message: str) -> None:
    headers = {"Content-Type": "application/json"} if isinstance(body, bytes) else None
    server.answer("/api/v1/query", 200, body, headers)
    error, _ = timed(lambda: prometheus_counts(server))
    assert isinstance(error, OpsctlError), error
    assert error.exit_code is ExitCode.UNAVAILABLE
    assert one_line(error) == message.format(base=server.base)


@pytest.mark.parametrize(
    "result",
    [
        [7],
        [{"values": "nope"}],
        [{"values": [[1, 2, 3]]}],
        [{"values": [["soon", "1"]]}],
        [{"values": [[1e300, "1"]]}],
    ],
)
def test_prometheus_range_garbage_is_unavailable_not_a_crash(server: HostileServer, result: Any) -> None:
    server.answer("/api/v1/query_range", 200, {"status": "success", "data": {"resultType": "matrix", "result": result}})
    error, _ = timed(lambda: prometheus_series(server))
    assert isinstance(error, OpsctlError), error
    assert error.exit_code is ExitCode.UNAVAILABLE
    assert one_line(error).startswith(f"Prometheus at {server.base} answered a range series that is not readable: ")


def alertmanager(server: HostileServer) -> Any:
    from opsctl.health.client import HealthClient
    from opsctl.health.rules import check_alertmanager

    with HealthClient(server.base, timeout=DEADLINE, retries=2) as client:
        return check_alertmanager(client)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (HANG, "Alertmanager: no answer from {base}/api/v2/status within the timeout (" + WAITED + ")"),
        (DRIP, "Alertmanager: no answer from {base}/api/v2/status within the timeout (" + WAITED + ")"),
        (ENDLESS, "Alertmanager: {base}/api/v2/status: response too large (over 1 MiB)"),
    ],
)
def test_alertmanager_misbehaving_fails_the_check_within_the_deadline(
    server: HostileServer, path: str, message: str
) -> None:
    server.misbehave("/api/v2/status", path)
    outcome, took = timed(lambda: alertmanager(server))
    assert outcome.status.value == "failed"
    assert one_line(outcome.summary) == message.format(base=server.base)
    assert took < DEADLINE + SLACK


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (HUGE, "Alertmanager: {base}/api/v2/status: response too large (over 1 MiB)"),
        (
            "<html>",
            "Alertmanager: Alertmanager at {base} did not answer JSON (GET {base}/api/v2/status answered HTTP 200)",
        ),
        ([1], "Alertmanager at {base} answered an unexpected status document"),
        ({"cluster": "up", "config": "none"}, "Alertmanager at {base} answered an unexpected status document"),
        (
            {"config": {"original": "receivers: [1, {name: x}]\n"}},
            "Alertmanager has no receiver that sends anywhere (receivers: x)",
        ),
        ({"config": {"original": "- a list\n"}}, "Alertmanager at {base} has no receivers"),
    ],
)
def test_alertmanager_garbage_fails_the_check_in_one_line(server: HostileServer, body: Any, message: str) -> None:
    headers = {"Content-Type": "application/json"} if isinstance(body, bytes) else None
    server.answer("/api/v2/status", 200, body, headers)
    outcome, _ = timed(lambda: alertmanager(server))
    assert not isinstance(outcome, Exception), outcome
    assert outcome.status.value == "failed"
    assert one_line(outcome.summary) == message.format(base=server.base)


# -- the OCI registry ---------------------------------------------------------------------------------


def resolve_image(server: HostileServer) -> Any:
    from opsctl.registry.hosts import endpoint
    from opsctl.registry.oci import OciRegistry
    from opsctl.values.imageref import ImageRef

    ref = ImageRef.parse(f"127.0.0.1:{server.port}/hvb:1.8.0")
    with OciRegistry(endpoint(ref, {}), policy=FAST) as registry:
        return registry.resolve(ref)


MANIFEST = "/v2/hvb/manifests/1.8.0"


@pytest.mark.parametrize("path", [HANG, DRIP])
def test_registry_hung_is_unavailable_asked_once_within_the_deadline(server: HostileServer, path: str) -> None:
    server.misbehave(MANIFEST, path)
    error, took = timed(lambda: resolve_image(server))
    assert isinstance(error, OpsctlError), error
    assert error.exit_code is ExitCode.UNAVAILABLE
    host = f"127.0.0.1:{server.port}"
    assert (
        one_line(error) == f"registry {host} is unreachable: no answer from http://{host}{MANIFEST} within the timeout"
    )
    # Asked once: a HEAD (with a /drip, its headers come, and no digest), then at most one GET.
    gets = [r for r in server.requests if r.method == "GET"]
    assert len(gets) <= 1
    assert len(server.requests) == (1 if path == HANG else 2)
    assert took < DEADLINE + SLACK


@pytest.mark.parametrize("path", [ENDLESS, "/huge"])
def test_registry_oversized_manifest_fails_the_check(server: HostileServer, path: str) -> None:
    if path == ENDLESS:
        server.misbehave(MANIFEST, path)
    else:
        server.answer(MANIFEST, 200, b"{" + b" " * (5 * 1024 * 1024) + b"}", {"Content-Type": "application/json"})
    error, took = timed(lambda: resolve_image(server))
    assert isinstance(error, OpsctlError), error
    assert error.exit_code is ExitCode.FAILED
    assert one_line(error) == f"registry 127.0.0.1:{server.port}: manifest response too large (over 4 MiB)"
    assert took < DEADLINE + SLACK


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html><body>It works!</body></html>", "text/html"),
        ([1, 2, 3], "application/json"),
        ("", ""),
    ],
)
def test_registry_answer_that_is_not_a_manifest_fails_the_check(
    server: HostileServer, body: Any, content_type: str
) -> None:
    server.answer(MANIFEST, 200, body, {"Content-Type": content_type} if content_type else {})
    error, _ = timed(lambda: resolve_image(server))
    assert isinstance(error, OpsctlError), error
    assert error.exit_code is ExitCode.FAILED
    shown = content_type or "no content type"
    assert one_line(error) == (
        f"registry 127.0.0.1:{server.port} answered {shown} for 127.0.0.1:{server.port}/hvb:1.8.0, "
        "not an image manifest (is it a registry?)"
    )


def test_registry_token_realm_that_hangs_is_unavailable(server: HostileServer) -> None:
    challenge = f'Bearer realm="{server.url("/token")}",service="reg",scope="repository:hvb:pull"'
    server.answer(MANIFEST, 401, {"errors": [{"code": "UNAUTHORIZED"}]}, {"WWW-Authenticate": challenge})
    server.misbehave("/token", HANG)
    error, took = timed(lambda: resolve_image(server))
    assert isinstance(error, OpsctlError), error
    assert error.exit_code is ExitCode.UNAVAILABLE
    assert asked(server, "/token") == 1
    assert took < DEADLINE + SLACK


# -- the Kubernetes API server (through the official client and a real kubeconfig) ------------------

DEPLOYMENT = "/apis/apps/v1/namespaces/hvb/deployments/hotel-voice-bot"
KUBE_TIMEOUT = 2.0


def kube_read(server: HostileServer, tmp_path: Path) -> Any:
    pytest.importorskip("kubernetes")
    from opsctl.platforms.kube.api import KubeApi
    from opsctl.platforms.kube.client import connect

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server.base}}],
        "users": [{"name": "u", "user": {"token": "kube-tok-3b2a1f0e"}}],
        "contexts": [{"name": "hvb", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "hvb",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    connection = connect(str(path), "hvb")
    try:
        return KubeApi(connection, timeout=KUBE_TIMEOUT).deployment("hvb", "hotel-voice-bot")
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "why"),
    [
        (HANG, f"no answer within {format_duration(KUBE_TIMEOUT)}"),
        (DRIP, f"no answer within {format_duration(KUBE_TIMEOUT)}"),
        (ENDLESS, "answer larger than 8 MiB"),
    ],
)
def test_kube_api_misbehaving_is_unavailable_within_the_deadline(
    server: HostileServer, tmp_path: Path, path: str, why: str
) -> None:
    server.misbehave(DEPLOYMENT, path)
    error, took = timed(lambda: kube_read(server, tmp_path))
    assert isinstance(error, OpsctlError), error
    assert error.exit_code is ExitCode.UNAVAILABLE
    assert one_line(error) == (
        f"the Kubernetes API server {server.base} (hvb) is unreachable ({why}) while trying to get deployments; "
        "nothing was changed by this call, try again"
    )
    assert took < KUBE_TIMEOUT + SLACK


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (HUGE + HUGE, "answer larger than 8 MiB"),
        ("<html>", "an answer that is not JSON"),
        ([1, 2], "an answer that is not a JSON object"),
    ],
)
def test_kube_api_garbage_is_unavailable_in_one_line(
    server: HostileServer, tmp_path: Path, body: Any, what: str
) -> None:
    headers = {"Content-Type": "application/json"} if isinstance(body, bytes) else None
    server.answer(DEPLOYMENT, 200, body, headers)
    error, _ = timed(lambda: kube_read(server, tmp_path))
    assert isinstance(error, OpsctlError), error
    assert error.exit_code is ExitCode.UNAVAILABLE
    assert one_line(error) == (
        f"the Kubernetes API server {server.base} (hvb) is unreachable ({what}) while trying to get deployments; "
        "nothing was changed by this call, try again"
    )
