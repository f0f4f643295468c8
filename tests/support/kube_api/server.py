"""The stand-in Kubernetes API server: the paths opsctl uses, over real HTTP on 127.0.0.1.

Follows the API reference for:
- ``GET /api/v1/namespaces/{ns}``;
- ``GET|PATCH /apis/apps/v1/namespaces/{ns}/deployments/{name}`` (PATCH with
  ``application/strategic-merge-patch+json``, ``application/merge-patch+json``
  or ``application/json-patch+json``; ``?dryRun=All`` answers the object as it
  would be stored and stores nothing; 415 for other content types);
- ``GET /apis/apps/v1/namespaces/{ns}/replicasets?labelSelector=``;
- ``GET /api/v1/namespaces/{ns}/pods?labelSelector=`` and ``.../pods/{name}/log``;
- ``GET|PUT /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}`` and
  ``POST .../leases`` (PUT with a stale ``metadata.resourceVersion``: 409 Conflict;
  POST of an existing name: 409 AlreadyExists).
Errors are ``Status`` objects (404 NotFound, 401 Unauthorized, 403 Forbidden,
409 Conflict, 422 Invalid). A bearer token is required.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.support.kube_api.cluster import Cluster, now_iso
from tests.support.kube_api.patches import json_patch, merge_patch, strategic_merge_patch

TOKEN = "kube-standin-token-5f2b8c1e9a"  # distinctive, so tests can search output for it
USER = "system:serviceaccount:hvb:opsctl"

_ROUTES = (
    ("namespace", re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)$")),
    ("deployment", re.compile(r"^/apis/apps/v1/namespaces/(?P<ns>[^/]+)/deployments/(?P<name>[^/]+)$")),
    ("replicasets", re.compile(r"^/apis/apps/v1/namespaces/(?P<ns>[^/]+)/replicasets$")),
    ("pods", re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods$")),
    ("log", re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods/(?P<name>[^/]+)/log$")),
    ("leases", re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/(?P<ns>[^/]+)/leases$")),
    ("lease", re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/(?P<ns>[^/]+)/leases/(?P<name>[^/]+)$")),
)
_RESOURCE = {
    "namespace": ("namespaces", ""),
    "deployment": ("deployments", "apps"),
    "replicasets": ("replicasets", "apps"),
    "pods": ("pods", ""),
    "log": ("pods/log", ""),
    "leases": ("leases", "coordination.k8s.io"),
    "lease": ("leases", "coordination.k8s.io"),
}
_VERBS = {"GET": "get", "PATCH": "patch", "PUT": "update", "POST": "create"}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    content_type: str
    body: Any
    status: int = 0


def status_object(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


@dataclass
class KubeApiServer:
    """A started stand-in API server with its controller thread; ``cluster`` holds the objects."""

    cluster: Cluster = field(default_factory=Cluster)
    token: str = TOKEN
    tick: float = 0.05
    requests: list[Recorded] = field(default_factory=list)
    forbidden: set[tuple[str, str]] = field(default_factory=set)  # (verb, resource) answered 403
    denied_images: dict[str, str] = field(default_factory=dict)  # image substring -> admission webhook message
    down: bool = False

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.api = self  # type: ignore[attr-defined]
        self._threads = [
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True),
            threading.Thread(target=self._control, daemon=True, name="kube-standin-controller"),
        ]

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> KubeApiServer:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def stop_listening(self) -> None:
        """Close the socket: the API server is unreachable (connection refused, open connections dropped)."""
        self.down = True
        self._server.shutdown()
        self._server.server_close()

    def _control(self) -> None:
        while not self._stop.wait(self.tick):
            self.cluster.tick()

    # -- control and reads for tests -----------------------------------------------------------

    def kubeconfig(
        self, path: Path, *, contexts: tuple[str, ...] = ("hvb-staging", "hvb-other"), token: str | None = None
    ) -> Path:
        """Write a kubeconfig whose contexts all reach this server (the first is current)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "standin", "cluster": {"server": self.url}}],
            "users": [{"name": "opsctl", "user": {"token": token or self.token}}],
            "contexts": [{"name": c, "context": {"cluster": "standin", "user": "opsctl"}} for c in contexts],
            "current-context": contexts[0],
        }
        path.write_text(yaml.safe_dump(config))
        return path

    def deployment(self, namespace: str = "hvb", name: str = "hotel-voice-bot") -> dict[str, Any]:
        with self.cluster.lock:
            return copy.deepcopy(self.cluster.objects[("deployments", namespace, name)])

    def images(self, namespace: str = "hvb", name: str = "hotel-voice-bot") -> dict[str, str]:
        """Container name -> image of the Deployment's pod template."""
        template = self.deployment(namespace, name)["spec"]["template"]["spec"]["containers"]
        return {c["name"]: c["image"] for c in template}

    def ready_image(self, container: str = "bot", namespace: str = "hvb") -> str:
        """The image most ready pods run (what a load balancer in front of them serves)."""
        counts: dict[str, int] = {}
        with self.cluster.lock:
            for pod in self.cluster.items("pods", namespace):
                if pod.get("status", {}).get("phase") == "Running":
                    for c in pod["spec"]["containers"]:
                        if c["name"] == container:
                            counts[c["image"]] = counts.get(c["image"], 0) + 1
        return max(counts, key=lambda image: counts[image]) if counts else ""

    def lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self.cluster.lock:
            found = self.cluster.get("leases", namespace, name)
            return copy.deepcopy(found) if found else None

    def calls(self, method: str, path_part: str = "") -> list[Recorded]:
        return [r for r in list(self.requests) if r.method == method and path_part in r.path]

    # -- the API ---------------------------------------------------------------------------------

    def handle(
        self, method: str, route: str, params: dict[str, str], query: dict[str, str], *, ctype: str, body: Any
    ) -> tuple[int, Any]:
        cluster = self.cluster
        ns = params.get("ns", "")
        with cluster.lock:
            if route == "namespace":
                if ns not in cluster.namespaces:
                    return 404, status_object(404, "NotFound", f'namespaces "{ns}" not found')
                return 200, {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": ns}}
            if route in ("deployment", "log", "lease"):
                kind = {"deployment": "deployments", "log": "pods", "lease": "leases"}[route]
                obj = cluster.get(kind, ns, params["name"])
                if obj is None and not (route == "lease" and method == "PUT"):
                    group = _RESOURCE[route][1]
                    plural = kind + (f".{group}" if group else "")
                    return 404, status_object(404, "NotFound", f'{plural} "{params["name"]}" not found')
            if route == "deployment" and method == "GET":
                return 200, copy.deepcopy(obj)
            if route == "deployment" and method == "PATCH":
                return self._patch(obj, query, ctype, body)
            if route in ("replicasets", "pods"):
                items = cluster.items(route, ns, query.get("labelSelector", ""))
                return 200, {"kind": "List", "apiVersion": "v1", "items": copy.deepcopy(items)}
            if route == "log":
                text = cluster.log_of(ns, params["name"])
                lines = text.splitlines()[-int(query["tailLines"]) :] if "tailLines" in query else text.splitlines()
                return 200, "\n".join(lines) + "\n"
            if route == "lease" and method == "GET":
                return 200, copy.deepcopy(obj)
            if route == "leases" and method == "POST":
                name = body["metadata"]["name"]
                if cluster.get("leases", ns, name) is not None:
                    return 409, status_object(
                        409, "AlreadyExists", f'leases.coordination.k8s.io "{name}" already exists'
                    )
                created = copy.deepcopy(body)
                created["metadata"]["namespace"] = ns
                return 201, copy.deepcopy(cluster.put("leases", created))
            if route == "lease" and method == "PUT":
                return self._replace_lease(ns, params["name"], body)
        return 405, status_object(405, "MethodNotAllowed", f"{method} is not supported here")

    def _patch(self, obj: dict[str, Any], query: dict[str, str], ctype: str, body: Any) -> tuple[int, Any]:
        try:
            if ctype == "application/strategic-merge-patch+json":
                patched = strategic_merge_patch(obj, body)
            elif ctype == "application/merge-patch+json":
                patched = merge_patch(obj, body)
            elif ctype == "application/json-patch+json":
                patched = json_patch(obj, body)
            else:
                return 415, status_object(
                    415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {ctype}"
                )
        except (ValueError, KeyError, IndexError) as exc:
            return 422, status_object(422, "Invalid", str(exc))
        containers = patched["spec"]["template"]["spec"]["containers"]
        names = [c.get("name") for c in containers]
        if len(names) != len(set(names)) or any(not c.get("image") for c in containers):
            name = obj["metadata"]["name"]
            return 422, status_object(
                422, "Invalid", f'Deployment.apps "{name}" is invalid: spec.template.spec.containers: Invalid value'
            )
        for c in containers:
            for sub, message in self.denied_images.items():
                if sub in c["image"]:
                    return 403, status_object(
                        403, "Forbidden", f'admission webhook "images.policy.example" denied the request: {message}'
                    )
        if patched["spec"] != obj["spec"]:
            patched["metadata"]["generation"] = int(obj["metadata"]["generation"]) + 1
        if query.get("dryRun") == "All":
            return 200, patched  # as it would be stored; nothing is
        obj.clear()
        obj.update(patched)
        self.cluster.stamp(obj)
        return 200, copy.deepcopy(obj)

    def _replace_lease(self, ns: str, name: str, body: dict[str, Any]) -> tuple[int, Any]:
        current = self.cluster.get("leases", ns, name)
        if current is None:
            return 404, status_object(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
        given = (body.get("metadata") or {}).get("resourceVersion")
        if given and given != current["metadata"]["resourceVersion"]:
            return 409, status_object(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on leases.coordination.k8s.io "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again",
            )
        replaced = copy.deepcopy(body)
        replaced["metadata"].update(namespace=ns, uid=current["metadata"]["uid"])
        replaced["metadata"].setdefault("creationTimestamp", current["metadata"].get("creationTimestamp", now_iso()))
        return 200, copy.deepcopy(self.cluster.put("leases", replaced))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        del format, args

    def _serve(self) -> None:
        api: KubeApiServer = self.server.api  # type: ignore[attr-defined]
        if api.down:  # a kept-alive connection of a server that is gone: no answer
            self.close_connection = True
            return None
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        entry = Recorded(self.command, url.path, query, ctype, body)
        api.requests.append(entry)
        if self.headers.get("Authorization") != f"Bearer {api.token}":
            return self._send(entry, 401, status_object(401, "Unauthorized", "Unauthorized"))
        for name, pattern in _ROUTES:
            match = pattern.match(url.path)
            if match:
                route = name
                break
        else:
            return self._send(
                entry, 404, status_object(404, "NotFound", "the server could not find the requested resource")
            )
        resource, group = _RESOURCE[route]
        verb = "list" if route in ("replicasets", "pods") else _VERBS.get(self.command, "get")
        if (verb, resource) in api.forbidden:
            ns = match.group("ns")
            message = (
                f'{resource}{"." + group if group else ""} is forbidden: User "{USER}" cannot {verb} resource '
                f'"{resource}" in API group "{group}" in the namespace "{ns}"'
            )
            return self._send(entry, 403, status_object(403, "Forbidden", message))
        status, payload = api.handle(self.command, route, match.groupdict(), query, ctype=ctype, body=body)
        return self._send(entry, status, payload)

    def _send(self, entry: Recorded, status: int, payload: Any) -> None:
        entry.status = status
        text = isinstance(payload, str)
        data = payload.encode() if text else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if text else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
