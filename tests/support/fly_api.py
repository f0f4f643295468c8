"""A stateful fake of the Fly Machines API on 127.0.0.1, for tests, CLI end-to-end runs and demos.

It is a real HTTP server (``ThreadingHTTPServer`` in a thread, free port), so
the driver goes through httpx, sockets and JSON exactly as in production.

Use the fixtures by importing them explicitly (there is no shared conftest);
they are registered under the names ``fly_api`` and ``fly_env``::

    from tests.support.fly_api import FakeFlyApi, fly_api_fixture, fly_env_fixture  # noqa: F401

    def test_deploy(fly_api: FakeFlyApi, fly_env: None) -> None:
        platform = FlyPlatform.from_config(fly_api.platform_config())
        result = platform.deploy("registry.fly.io/hvb:1.8.0", RolloutOptions(timeout=10))
        assert fly_api.images() == {"m1": "registry.fly.io/hvb:1.8.0", ...}

``fly_api`` yields a started :class:`FakeFlyApi` with app ``hvb`` and three
machines ``m1``, ``m2``, ``m3`` on :data:`DEFAULT_IMAGE`, each started with one
passing ``health`` check; ``fly_env`` sets ``FLY_API_TOKEN`` to its token.

Endpoints (all under ``/v1/apps/{app}``, bearer token required, else 401):
``GET machines``, ``GET|POST machines/{id}`` (POST body ``{"config": ...}``,
needs the lease nonce in ``fly-machine-lease-nonce``, else 412),
``POST machines`` (create a machine: ``{"config": ..., "region": ...}``; it starts,
runs its command, exits, and with ``config.auto_destroy`` is destroyed and no
longer listed), ``POST|GET|DELETE machines/{id}/lease`` (``?ttl=``; POST with our nonce renews;
409 when another owner holds it), ``GET machines/{id}/wait?state=&version=
(or instance_id=)&timeout=<=60`` (blocks; 408 when it runs out).

Leases follow the Machines API: whoever presents a lease's nonce in
``fly-machine-lease-nonce`` holds it, whatever process took it. An update of a
leased machine without that nonce answers 412; a release (DELETE) with another
nonce 409; a POST with the nonce renews the lease and keeps its nonce; a POST
without it, while the lease is active, 409 naming the owner. (``GET .../lease``
shows the nonce to the token's owner: a shortcut of this fake. The driver
adopts leases only by the nonces it journaled, never by reading them there.)

Behaviour: an update replaces the config, makes a new ``instance_id``, clears
the check results ("no result yet"), goes ``starting`` -> ``started`` after
``start_delay`` and reports checks ``passing`` ``check_delay`` later. State moves
lazily, whenever a request (or a control call) looks at the app.

Control API (methods of :class:`FakeFlyApi`):
- ``fail_image(substring="bad", mode="crashloop", machine=None)``: images whose
  reference contains ``substring`` crash: ``crashloop`` (start, exit 1, restart,
  ...), ``stop`` (start, exit, stay stopped) or ``fail`` (never start: ``failed``);
- ``critical_checks(machine=None, image=None, output=...)``: checks report
  ``critical`` on new instances matching the machine and/or image substring;
- ``fail_next(count, status=500, method=None, path=None, retry_after=None,
  apply=False)``: the next ``count`` matching requests answer ``status`` (with
  ``Retry-After``; ``path`` matches the end of the URL path, e.g. ``/machines/m1``);
  ``apply=True`` performs the request first (an ambiguous error);
- ``drop_next(count, method=None, path=None, apply=True)``: close the connection
  without an answer (after performing the request when ``apply``);
- ``revert_updates(machine, count=1)``: after the next update of ``machine``
  starts, the platform puts the old config back (new instance, old image);
- ``hold_lease(machine, owner="alice@example.com", ttl=3600, description=...)``:
  another holder has the lease (returns its nonce; ``owner=OWNER`` is another
  run with our own token, whose nonce we do not know);
- ``release_lease(machine)``: its holder gives the lease back; ``expire_lease(machine)``:
  the lease runs out (both as if the holder's time passed, no request needed);
- ``set_image(machine, image)``: update a machine without a lease, as an earlier
  run would have (records ``opsctl_previous_image``; starts like any update);
- ``one_off_exit(code, image=None)``: one-off machines (``POST machines``, e.g. a
  migration) whose image contains ``image`` exit with ``code`` (default 0) once
  ``crash_delay`` after starting; ``one_offs()`` lists every one created (views);
- reads: ``machine(id)``, ``images()``, ``leases()``, ``lease_nonces()``, ``requests`` (list of
  :class:`Recorded`: method, path, query, headers without the token, body,
  status), ``calls(method, path_suffix)``, ``updates(machine=None)``, ``clear_requests()``.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from opsctl.config import FlyPlatformConfig

DEFAULT_IMAGE = "registry.fly.io/hvb:1.7.0"
TOKEN = "fo1_fake-fly-token-7d3c9e41b2a8"  # distinctive, so tests can search output for it
OWNER = "deploy@hvb.example"  # the lease owner of requests made with TOKEN


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class _Fault:
    count: int
    status: int
    method: str | None
    path: str | None
    retry_after: str | None = None
    apply: bool = False
    drop: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method in (None, method)) and (self.path is None or path.endswith(self.path))


@dataclass
class _Lease:
    owner: str
    nonce: str
    expires_at: float
    description: str = ""


@dataclass
class _Machine:
    id: str
    config: dict[str, Any]
    instance_id: str
    state: str = "started"
    checks: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    reached: dict[str, set[str]] = field(default_factory=dict)  # instance -> states it reached
    timeline: list[tuple[float, int, str]] = field(default_factory=list)  # heap of (due, seq, action)
    reverts: int = 0
    revert_to: dict[str, Any] | None = None
    lease: _Lease | None = None

    @property
    def image(self) -> str:
        return str(self.config.get("image"))


def _image_ref(image: str) -> dict[str, Any]:
    name, _, digest = image.partition("@")
    first, _, rest = name.partition("/")
    registry, repository = (first, rest) if rest and ("." in first or ":" in first) else ("docker.io", name)
    repository, _, tag = repository.partition(":")
    return {
        "registry": registry,
        "repository": repository,
        "tag": tag or "latest",
        "digest": digest or "sha256:" + hashlib.sha256(image.encode()).hexdigest(),
        "labels": {},
    }


def default_config(image: str = DEFAULT_IMAGE) -> dict[str, Any]:
    return {
        "image": image,
        "env": {"PORT": "8080"},
        "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 512},
        "services": [{"protocol": "tcp", "internal_port": 8080, "ports": [{"port": 443, "handlers": ["tls", "http"]}]}],
        "checks": {"health": {"type": "http", "port": 8080, "path": "/health", "interval": "10s", "timeout": "2s"}},
        "metadata": {"fly_process_group": "app", "fly_platform_version": "v2"},
        "restart": {"policy": "on-failure"},
    }


class FakeFlyApi:
    """The fake server and its control API (see the module docstring)."""

    def __init__(
        self,
        app: str = "hvb",
        machine_ids: tuple[str, ...] = ("m1", "m2", "m3"),
        image: str = DEFAULT_IMAGE,
        *,
        token: str = TOKEN,
        start_delay: float = 0.05,
        check_delay: float = 0.05,
        crash_delay: float = 0.05,
        require_lease: bool = True,
    ) -> None:
        self.app, self.token, self.require_lease = app, token, require_lease
        self.start_delay, self.check_delay, self.crash_delay = start_delay, check_delay, crash_delay
        self.requests: list[Recorded] = []
        self._cond = threading.Condition(threading.RLock())
        self._seq = itertools.count()
        self._last_ts = 0
        self._faults: list[_Fault] = []
        self._fail_rules: list[tuple[str, str, str | None]] = []
        self._critical_rules: list[tuple[str | None, str | None, str]] = []
        self._machines: dict[str, _Machine] = {}
        self._one_offs: dict[str, _Machine] = {}  # machines created through the API (migrations)
        self._one_off_exits: list[tuple[str | None, int]] = []
        for machine_id in machine_ids:
            machine = _Machine(machine_id, default_config(image), self._new_instance())
            machine.reached[machine.instance_id] = {"started"}
            machine.checks = self._check_results(machine, "passing", "200 OK")
            self._machines[machine_id] = machine
        self._stopping = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.api = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-fly-api", daemon=True
        )

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeFlyApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def platform_config(self, **overrides: Any) -> FlyPlatformConfig:
        """A FlyPlatformConfig pointed at this server, with fast polling."""
        values: dict[str, Any] = {
            "kind": "fly",
            "app": self.app,
            "api_url": self.url,
            "token_env": "FLY_API_TOKEN",
            "poll_interval": 0.02,
            "lease_ttl": 60,
        }
        return FlyPlatformConfig.model_validate(values | overrides)

    # -- control API -------------------------------------------------------------------

    def fail_image(self, substring: str = "bad", mode: str = "crashloop", machine: str | None = None) -> None:
        assert mode in {"crashloop", "stop", "fail"}
        with self._cond:
            self._fail_rules.append((substring, mode, machine))

    def one_off_exit(self, code: int, image: str | None = None) -> None:
        with self._cond:
            self._one_off_exits.insert(0, (image, code))

    def one_offs(self) -> list[dict[str, Any]]:
        with self._cond:
            self._advance()
            return [self._view(m) for m in self._one_offs.values()]

    def critical_checks(
        self, machine: str | None = None, image: str | None = None, output: str = "500 Internal Server Error"
    ) -> None:
        with self._cond:
            self._critical_rules.append((machine, image, output))

    def fail_next(
        self,
        count: int = 1,
        status: int = 500,
        *,
        method: str | None = None,
        path: str | None = None,
        retry_after: str | None = None,
        apply: bool = False,
    ) -> None:
        with self._cond:
            self._faults.append(_Fault(count, status, method, path, retry_after, apply))

    def drop_next(
        self, count: int = 1, *, method: str | None = None, path: str | None = None, apply: bool = True
    ) -> None:
        with self._cond:
            self._faults.append(_Fault(count, 0, method, path, None, apply, drop=True))

    def revert_updates(self, machine: str, count: int = 1) -> None:
        with self._cond:
            self._machines[machine].reverts += count

    def hold_lease(
        self, machine: str, owner: str = "alice@example.com", ttl: float = 3600, description: str = "held by a test"
    ) -> str:
        nonce = uuid.uuid4().hex
        with self._cond:
            self._machines[machine].lease = _Lease(owner, nonce, time.time() + ttl, description)
        return nonce

    def release_lease(self, machine: str) -> None:
        """The holder gives the lease back (as a DELETE with its nonce would)."""
        with self._cond:
            self._machines[machine].lease = None

    def expire_lease(self, machine: str) -> None:
        """The lease runs out; its nonce no longer holds the machine."""
        with self._cond:
            lease = self._machines[machine].lease
            if lease is not None:
                lease.expires_at = time.time() - 1

    def lease_nonces(self) -> dict[str, str]:
        """Active leases: machine id -> the nonce that holds it."""
        with self._cond:
            return {m.id: m.lease.nonce for m in self._machines.values() if m.lease is not None and self._active(m)}

    def set_image(self, machine: str, image: str) -> None:
        """Update a machine as an earlier run would have (new instance, starts as usual)."""
        with self._cond:
            m = self._machines[machine]
            metadata = dict(m.config.get("metadata") or {})
            metadata["opsctl_previous_image"] = m.image
            self._apply_update(m, {**copy.deepcopy(m.config), "image": image, "metadata": metadata})

    def machine(self, machine: str) -> dict[str, Any]:
        with self._cond:
            self._advance()
            return self._view(self._machines[machine])

    def images(self) -> dict[str, str]:
        with self._cond:
            self._advance()
            return {m.id: m.image for m in self._machines.values()}

    def leases(self) -> dict[str, dict[str, Any]]:
        """Active leases: machine id -> {owner, expires_at}."""
        with self._cond:
            return {
                m.id: {"owner": m.lease.owner, "expires_at": m.lease.expires_at}
                for m in self._machines.values()
                if m.lease is not None and self._active(m)
            }

    def calls(self, method: str, path_suffix: str) -> list[Recorded]:
        with self._cond:
            return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    def updates(self, machine: str | None = None) -> list[Recorded]:
        """POSTs of machine configs (not leases), optionally of one machine."""
        pattern = re.compile(rf"/machines/{re.escape(machine) if machine else '[^/]+'}$")
        with self._cond:
            return [r for r in self.requests if r.method == "POST" and pattern.search(r.path)]

    def clear_requests(self) -> None:
        with self._cond:
            self.requests.clear()

    # -- state machine -----------------------------------------------------------------

    def _new_instance(self) -> str:
        return uuid.uuid4().hex[:26].upper()

    def _ts(self) -> int:
        self._last_ts = max(int(time.time() * 1000), self._last_ts + 1)
        return self._last_ts

    def _event(self, m: _Machine, kind: str, status: str, exit_code: int | None = None) -> None:
        event: dict[str, Any] = {"type": kind, "status": status, "source": "flyd", "timestamp": self._ts()}
        if exit_code is not None:
            event["request"] = {"exit_event": {"exit_code": exit_code, "restarting": kind == "exit"}}
        m.events.append(event)

    def _schedule(self, m: _Machine, delay: float, action: str) -> None:
        heapq.heappush(m.timeline, (time.monotonic() + delay, next(self._seq), action))

    def _set_state(self, m: _Machine, state: str) -> None:
        m.state = state
        m.reached.setdefault(m.instance_id, set()).add(state)
        self._cond.notify_all()

    def _fail_mode(self, m: _Machine) -> str | None:
        return next((mode for sub, mode, only in self._fail_rules if sub in m.image and only in (None, m.id)), None)

    def _check_results(self, m: _Machine, status: str, output: str) -> list[dict[str, Any]]:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return [{"name": n, "status": status, "output": output, "updated_at": now} for n in m.config.get("checks", {})]

    def _apply_update(self, m: _Machine, config: dict[str, Any]) -> None:
        old = m.config
        m.config = config
        m.instance_id = self._new_instance()
        m.checks, m.timeline = [], []
        self._event(m, "update", "completed")
        self._event(m, "exit", "stopped", exit_code=0)  # the old instance stops
        self._set_state(m, "starting")
        if m.reverts > 0 and m.revert_to is None:
            m.reverts -= 1
            m.revert_to = old
        self._schedule(m, self.start_delay, "fail" if self._fail_mode(m) == "fail" else "started")

    def _run(self, m: _Machine, action: str) -> None:
        if action == "started":
            self._set_state(m, "started")
            self._event(m, "start", "started")
            if m.revert_to is not None:
                self._schedule(m, self.crash_delay, "revert")
            elif self._fail_mode(m) in {"crashloop", "stop"}:
                self._schedule(m, self.crash_delay, "crash")
            self._schedule(m, self.check_delay, "checks")
        elif action == "checks" and m.state == "started":
            rule = next(
                (out for mid, img, out in self._critical_rules if mid in (None, m.id) and (img or "") in m.image), None
            )
            m.checks = self._check_results(m, "critical" if rule else "passing", rule or "200 OK")
        elif action == "crash":
            self._set_state(m, "stopped")
            self._event(m, "exit", "stopped", exit_code=1)
            m.checks = self._check_results(m, "critical", "connection refused")
            if self._fail_mode(m) == "crashloop":
                self._schedule(m, self.crash_delay, "restart")
        elif action == "restart":
            self._set_state(m, "starting")
            self._schedule(m, self.start_delay, "started")
        elif action == "fail":
            self._set_state(m, "failed")
            self._event(m, "exit", "failed", exit_code=1)
        elif action == "revert" and m.revert_to is not None:
            old, m.revert_to = m.revert_to, None
            self._apply_update(m, old)

    def _advance(self) -> None:
        now = time.monotonic()
        for m in [*self._machines.values(), *self._one_offs.values()]:
            while m.timeline and m.timeline[0][0] <= now:
                _, _, action = heapq.heappop(m.timeline)
                if m.id in self._one_offs:
                    self._run_one_off(m, action)
                else:
                    self._run(m, action)

    def _create(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("config"), dict) or not body["config"].get("image"):
            return 400, {"error": 'body must be {"config": {...image...}}'}
        m = _Machine(f"o{len(self._one_offs) + 1}", copy.deepcopy(body["config"]), self._new_instance(), "created")
        self._one_offs[m.id] = m
        self._set_state(m, "created")
        self._schedule(m, self.start_delay, "started")
        return 200, self._view(m)

    def _run_one_off(self, m: _Machine, action: str) -> None:
        if action == "started":
            self._set_state(m, "started")
            self._event(m, "start", "started")
            self._schedule(m, self.crash_delay, "exit")
        elif action == "exit":
            code = next((c for img, c in self._one_off_exits if img is None or img in m.image), 0)
            self._set_state(m, "stopped")
            exit_event = {"exit_code": code, "oom_killed": False, "requested_stop": False, "restarting": False}
            event = {"type": "exit", "status": "stopped", "source": "flyd", "timestamp": self._ts()}
            m.events.append({**event, "request": {"exit_event": exit_event}})
            if m.config.get("auto_destroy"):
                self._schedule(m, 0, "destroy")
        elif action == "destroy":
            self._set_state(m, "destroyed")
            self._event(m, "destroy", "destroyed")

    def _active(self, m: _Machine) -> bool:
        return m.lease is not None and m.lease.expires_at > time.time()

    def _view(self, m: _Machine) -> dict[str, Any]:
        return copy.deepcopy(
            {
                "id": m.id,
                "name": f"{self.app}-{m.id}",
                "state": m.state,
                "region": "ams",
                "instance_id": m.instance_id,
                "private_ip": "fdaa:0:1::3",
                "config": m.config,
                "image_ref": _image_ref(m.image),
                "checks": m.checks,
                "events": sorted(m.events, key=lambda e: -int(e["timestamp"]))[:20],
                "created_at": "2026-01-05T10:00:00Z",
            }
        )

    def _lease_view(self, lease: _Lease, with_nonce: bool) -> dict[str, Any]:
        data = {"owner": lease.owner, "expires_at": int(lease.expires_at), "description": lease.description}
        return data | ({"nonce": lease.nonce} if with_nonce else {})

    # -- request handling (called by the handler under no lock) -----------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        match = re.fullmatch(r"/v1/apps/([^/]+)/machines(?:/([^/]+)(?:/(lease|wait))?)?", path)
        if not match or match.group(1) != self.app:
            return 404, {"error": "app not found"}
        machine_id, sub = match.group(2), match.group(3)
        if sub == "wait":
            return self._wait(machine_id, query)
        with self._cond:
            self._advance()
            if machine_id is None:
                if method == "POST":
                    return self._create(body)
                if method != "GET":
                    return 405, {"error": "method not allowed"}
                live = [m for m in self._one_offs.values() if m.state != "destroyed"]
                return 200, [self._view(m) for m in [*self._machines.values(), *live]]
            m = self._machines.get(machine_id) or self._one_offs.get(machine_id)
            if m is None:
                return 404, {"error": "machine not found"}
            nonce = headers.get("fly-machine-lease-nonce")
            if sub == "lease":
                return self._lease(m, method, query, body, nonce)
            if method == "GET":
                return 200, self._view(m)
            if method != "POST":
                return 405, {"error": "method not allowed"}
            if self._active(m) and m.lease is not None and nonce != m.lease.nonce:
                return 412, {"error": "machine is leased: fly-machine-lease-nonce missing or wrong"}
            if not self._active(m) and self.require_lease:
                return 412, {"error": "fake requires a lease before an update"}
            if (
                not isinstance(body, dict)
                or not isinstance(body.get("config"), dict)
                or not body["config"].get("image")
            ):
                return 400, {"error": 'body must be {"config": {...image...}}'}
            self._apply_update(m, copy.deepcopy(body["config"]))
            return 200, self._view(m)

    def _lease(self, m: _Machine, method: str, query: dict[str, str], body: Any, nonce: str | None) -> tuple[int, Any]:
        active = self._active(m) and m.lease is not None
        if method == "GET":
            if not active or m.lease is None:
                return 404, {"error": "lease not found"}
            return 200, {"status": "success", "data": self._lease_view(m.lease, m.lease.owner == OWNER)}
        if method == "DELETE":
            if not active or m.lease is None:
                return 404, {"error": "lease not found"}
            if nonce != m.lease.nonce:
                return 409, {"error": "lease nonce mismatch"}
            m.lease = None
            return 200, {"status": "success"}
        ttl = float(query.get("ttl") or (body or {}).get("ttl") or 30)
        if active and m.lease is not None and nonce != m.lease.nonce:
            return 409, {"error": f"machine {m.id} is leased by {m.lease.owner}", "status": "failure"}
        if active and m.lease is not None:
            m.lease.expires_at = time.time() + ttl
        else:
            description = str((body or {}).get("description") or "")
            m.lease = _Lease(OWNER, uuid.uuid4().hex, time.time() + ttl, description)
        return 200, {"status": "success", "data": self._lease_view(m.lease, True)}

    def _wait(self, machine_id: str | None, query: dict[str, str]) -> tuple[int, Any]:
        timeout = int(query.get("timeout") or 60)
        if timeout > 60:
            return 400, {"error": "timeout must be at most 60 seconds"}
        state = query.get("state") or "started"
        deadline = time.monotonic() + timeout
        with self._cond:
            m = self._machines.get(machine_id or "") or self._one_offs.get(machine_id or "")
            if m is None:
                return 404, {"error": "machine not found"}
            instance = query.get("version") or query.get("instance_id") or m.instance_id
            while not self._stopping:
                self._advance()
                if state in m.reached.get(instance, set()):
                    return 200, {"ok": True}
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.01))
        return 408, {"error": f"deadline_exceeded: machine {machine_id} did not reach {state}"}

    def take_fault(self, method: str, path: str) -> _Fault | None:
        with self._cond:
            for fault in self._faults:
                if fault.count > 0 and fault.matches(method, path):
                    fault.count -= 1
                    return fault
        return None

    def record(self, entry: Recorded) -> None:
        with self._cond:
            self.requests.append(entry)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle's algorithm
    # and delayed ACKs add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _serve(self) -> None:
        api: FakeFlyApi = self.server.api  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}
        entry = Recorded(self.command, url.path, query, headers, body)
        api.record(entry)
        if self.headers.get("Authorization") != f"Bearer {api.token}":
            return self._send(entry, 401, {"error": "You must be authenticated to view this."})
        fault = api.take_fault(self.command, url.path)
        if fault is None or fault.apply:
            status, payload = api.handle(self.command, url.path, query, headers, body)
        if fault is None:
            return self._send(entry, status, payload)
        if fault.drop:
            entry.status = -1
            self.close_connection = True
            return None
        extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        return self._send(entry, fault.status, {"error": f"injected HTTP {fault.status}"}, extra)

    def _send(self, entry: Recorded, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        entry.status = status
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve


@pytest.fixture(name="fly_api")
def fly_api_fixture() -> Iterator[FakeFlyApi]:
    """A started fake Fly Machines API: app ``hvb``, machines m1..m3 on registry.fly.io/hvb:1.7.0."""
    api = FakeFlyApi().start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture(name="fly_env")
def fly_env_fixture(fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Export the fake's token in FLY_API_TOKEN (the config default ``token_env``)."""
    monkeypatch.setenv("FLY_API_TOKEN", fly_api.token)
