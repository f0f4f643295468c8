"""The few Kubernetes API calls opsctl makes, as plain JSON, each failure in one clear line.

Answers are read raw (``_preload_content=False``) and parsed as JSON, so the
driver works with the API reference's field names (``observedGeneration``),
not the client's generated models. Every call names its verb and resource,
which is what a 401/403 message tells the person to grant.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NoReturn

from opsctl.errors import BadInput, NeedsHuman, OpsctlError, Unavailable
from opsctl.platforms.kube.client import Connection

READ_VERBS = frozenset({"get", "list"})
RBAC_HINT = "see `opsctl platform rbac --print` for the Role opsctl needs"
SMP = "application/strategic-merge-patch+json"


class KubeError(OpsctlError):
    """An answer of the API server that the caller may handle (``status``: 404, 409, 422...)."""

    def __init__(self, message: str, status: int, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def _status_message(exc: Any) -> tuple[str, str]:
    """The ``message`` and ``reason`` of the Status object an ApiException carries."""
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = " ".join(str(body.get("message") or exc.reason or "").split())
    return message, str(body.get("reason") or "")


def _admission(message: str) -> bool:
    """A 403 from an admission webhook or a quota (the change is refused), not from RBAC (we may not ask)."""
    return "admission webhook" in message or "exceeded quota" in message


class KubeApi:
    """Calls against one API server as one kubeconfig context; ``timeout`` bounds each request."""

    def __init__(self, connection: Connection, *, timeout: float = 15.0) -> None:
        from kubernetes import client

        self.connection = connection
        self.timeout = timeout
        self.apps = client.AppsV1Api(connection.api_client)
        self.core = client.CoreV1Api(connection.api_client)
        self.coordination = client.CoordinationV1Api(connection.api_client)

    def call(self, verb: str, resource: str, namespace: str, request: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Run one request; JSON answer (or text for logs). Errors: 401/403 and unreachable become one line."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        from opsctl.platforms.kube import bounded

        # The timeout bounds the whole call (headers and body, however slowly they come), and the answer's size.
        with bounded.limits(self.timeout) as scope:
            try:
                response = request(*args, _preload_content=False, _request_timeout=self.timeout, **kw)
                data = response.data.decode("utf-8", "replace")
                response.release_conn()
            except (ApiException, HTTPError, OSError) as exc:
                self._failed(verb, resource, namespace, exc, scope.hit)
        if resource.endswith("/log"):
            return data
        try:
            answer = json.loads(data) if data else {}
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            what = "an answer that is not JSON" if answer is None else "an answer that is not a JSON object"
            raise self._unavailable(what, verb, resource)
        return answer

    def _unavailable(self, why: str, verb: str, resource: str) -> OpsctlError:
        """No usable answer: exit 5 for a read; for a write the server may have applied it (state unknown, exit 3)."""
        where = f"the Kubernetes API server {self.connection.server} ({self.connection.context})"
        if verb not in READ_VERBS:
            return NeedsHuman(
                f"{where} gave no usable answer ({why}) to {verb} {resource}: the change may have been made; "
                "check it with `opsctl platform status` before trying again"
            )
        return Unavailable(
            f"{where} is unreachable ({why}) while trying to {verb} {resource}; nothing was changed by this call, "
            "try again"
        )

    def _failed(self, verb: str, resource: str, namespace: str, exc: Exception, hit: str | None) -> NoReturn:
        """Raise the one-line error for a call that got no usable answer (``hit``: which bound ended it)."""
        from kubernetes.client.exceptions import ApiException

        from opsctl.platforms.kube import bounded
        from opsctl.values.durations import format_duration

        if hit == "deadline":
            raise self._unavailable(f"no answer within {format_duration(self.timeout)}", verb, resource) from None
        if hit == "size":
            raise self._unavailable(f"answer larger than {bounded.MAX_ANSWER >> 20} MiB", verb, resource) from None
        if not isinstance(exc, ApiException):
            why = " ".join(str(getattr(exc, "reason", None) or exc).split())[:200]
            raise Unavailable(
                f"the Kubernetes API server {self.connection.server} ({self.connection.context}) is unreachable "
                f"({why}) while trying to {verb} {resource}; nothing was changed by this call, try again"
            ) from None
        ctx = self.connection.context
        message, reason = _status_message(exc)
        status = int(exc.status or 0)
        if status == 401:
            raise BadInput(
                f"the Kubernetes API server ({ctx}) rejected our credentials (401 Unauthorized) to {verb} "
                f"{resource} in namespace {namespace}: renew them (kubectl config view, your exec plugin)"
            ) from None
        if status == 403 and not _admission(message):
            raise BadInput(
                f"forbidden (403): context {ctx} may not {verb} {resource} in namespace {namespace}; {RBAC_HINT}"
            ) from None
        if status == 0 or status in (502, 503, 504):
            raise Unavailable(
                f"the Kubernetes API server {self.connection.server} ({ctx}) is unavailable "
                f"({status or 'no answer'}) while trying to {verb} {resource}; nothing was changed by this call, "
                "try again"
            ) from None
        raise KubeError(message or f"{status} from the API server", status, reason) from None

    # -- apps/v1 and core/v1 -------------------------------------------------------------

    def deployment(self, namespace: str, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "get", "deployments", namespace, self.apps.read_namespaced_deployment, name, namespace
        )
        return result

    def patch_deployment(self, namespace: str, name: str, body: dict[str, Any], *, dry_run: bool) -> dict[str, Any]:
        """A strategic merge patch (``dryRun=All`` when ``dry_run``: admission runs, nothing is stored)."""
        extra = {"dry_run": "All"} if dry_run else {}
        result: dict[str, Any] = self.call(
            "patch",
            "deployments",
            namespace,
            self.apps.patch_namespaced_deployment,
            name,
            namespace,
            body,
            _content_type=SMP,
            field_manager="opsctl",
            **extra,
        )
        return result

    def replica_sets(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        answer = self.call(
            "list", "replicasets", namespace, self.apps.list_namespaced_replica_set, namespace, label_selector=selector
        )
        return list(answer.get("items") or [])

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        answer = self.call("list", "pods", namespace, self.core.list_namespaced_pod, namespace, label_selector=selector)
        return list(answer.get("items") or [])

    def pod_log(self, namespace: str, pod: str, container: str, *, previous: bool, lines: int) -> str:
        text: str = self.call(
            "get",
            "pods/log",
            namespace,
            self.core.read_namespaced_pod_log,
            pod,
            namespace,
            container=container,
            previous=previous,
            tail_lines=lines,
        )
        return text

    def namespace_exists(self, namespace: str) -> bool | None:
        """Whether the namespace exists; None when we may not look (namespaces are cluster-scoped)."""
        try:
            self.call("get", "namespaces", namespace, self.core.read_namespace, namespace)
        except KubeError as exc:
            return False if exc.status == 404 else None
        except BadInput:
            return None
        return True

    # -- coordination.k8s.io/v1 ----------------------------------------------------------

    def lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self.call(
                "get", "leases", namespace, self.coordination.read_namespaced_lease, name, namespace
            )
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise
        return result

    def create_lease(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "create", "leases", namespace, self.coordination.create_namespaced_lease, namespace, body
        )
        return result

    def replace_lease(self, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT with ``metadata.resourceVersion``: 409 (KubeError) when someone wrote it since we read it."""
        result: dict[str, Any] = self.call(
            "update", "leases", namespace, self.coordination.replace_namespaced_lease, name, namespace, body
        )
        return result

    def close(self) -> None:
        self.connection.close()
