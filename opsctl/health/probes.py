"""The bot's health probes (DESIGN section 4): live, served version, dependencies, synthetic request.

``check_*`` functions take a :class:`HealthClient` and plain values (the
benchmark and tests call them directly); ``live(ctx, params)`` and friends
resolve the environment's config and are what the actions and the ad-hoc
report call. Every Outcome's detail carries ``value`` and ``target`` strings
for the report table.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from opsctl.config import SyntheticCheck
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.health.client import HealthClient, ProbeError, Reply, client_for, health_config
from opsctl.health.context import ProbeContext
from opsctl.health.params import DependenciesParams, LiveParams, SyntheticParams, VersionParams
from opsctl.values.fieldpath import MISSING, compare_fields, field_at
from opsctl.values.imageref import ImageRef

OK = "ok"
DEGRADED = "degraded"


def parse_json(reply: Reply) -> tuple[Any, str | None]:
    """(body, None) or (None, a sentence saying the answer is not JSON)."""
    try:
        return reply.json(), None
    except ValueError:
        start = reply.text.strip()[:40]
        return None, f"{reply.url} answered HTTP {reply.status} but not JSON: {start!r}"


def check_live(client: HealthClient, path: str) -> Outcome:
    """``GET /health`` answers 200 with ``status: ok``."""
    target = "HTTP 200, status ok"
    try:
        reply = client.get(path)
    except ProbeError as exc:
        return Outcome.failed(str(exc), value="no answer", target=target)
    detail = {"url": reply.url, "http_status": reply.status, "ms": round(reply.elapsed_ms), "target": target}
    if reply.status != 200:
        return Outcome.failed(reply.describe_status(), value=f"HTTP {reply.status}", **detail)
    body, problem = parse_json(reply)
    if problem is not None:
        return Outcome.failed(problem, value="not JSON", **detail)
    mismatch = compare_fields(body, {"status": OK})
    if mismatch is not None:
        return Outcome.failed(f"{reply.url}: {mismatch}", value=f"status {field_at(body, 'status')}", **detail)
    version = field_at(body, "version")
    shown = f", version {version}" if version is not MISSING else ""
    retried = f" after {reply.attempts} attempts" if reply.attempts > 1 else ""
    return Outcome.passed(
        f"{reply.url} answered status ok in {reply.elapsed_ms:.0f}ms{retried}{shown}", value="status ok", **detail
    )


def _served(client: HealthClient, path: str, field: str) -> tuple[str | None, str | None]:
    """(version, None) or (None, why no version)."""
    try:
        reply = client.get(path)
    except ProbeError as exc:
        return None, str(exc)
    if reply.status != 200:
        return None, reply.describe_status()
    body, problem = parse_json(reply)
    if problem is not None:
        return None, problem
    version = field_at(body, field)
    if version is MISSING:
        return None, f"{reply.url}: field {field} is missing from the response"
    return str(version), None


def check_version(
    client: HealthClient, path: str, expected: str, *, probes: int, concurrency: int = 10, field: str = "version"
) -> Outcome:
    """Ask ``probes`` times, concurrently (each on a fresh connection if the client has no keep-alive,
    so that a load balancer spreads them over instances); every answer must be ``expected``."""
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, probes)), thread_name_prefix="opsctl-ver") as pool:
        answers = list(pool.map(lambda _: _served(client, path, field), range(probes)))
    served = Counter(v for v, _ in answers if v is not None)
    errors = [why for _, why in answers if why is not None]
    detail = {
        "expected": expected,
        "served": dict(served),
        "errors": len(errors),
        "target": expected,
        "value": ", ".join(f"{v} ({n}/{probes})" for v, n in served.most_common()) or "no answer",
    }
    if served.get(expected, 0) == probes:
        return Outcome.passed(f"{probes} of {probes} probes served {expected}", **detail)
    wrong = [f"{n} of {probes} probes served {v}" for v, n in served.most_common() if v != expected]
    summary = ", ".join(wrong) + f", expected {expected}" if wrong else ""
    if errors:
        failed = f"{len(errors)} of {probes} probes failed: {errors[0]}"
        summary = f"{summary}; {failed}" if summary else f"{failed} (expected {expected})"
    return Outcome.failed(summary, **detail)


def expected_version(ctx: RunContext, given: str | None) -> str:
    """``with: version``, else the tag of the run's release, else what the platform runs now."""
    if given:
        return given
    release = ctx.state.release or {}
    ref = ImageRef.try_parse(str(release.get("image") or ""))
    if ref is not None:
        return ref.version
    if release.get("tag"):
        return str(release["tag"])
    return ctx.platform().current_release().tag


def _dependency_status(entry: Any) -> str | None:
    if isinstance(entry, dict):
        status = entry.get("status")
        return None if status is None else str(status)
    return None if entry is None else str(entry)


def check_dependencies(client: HealthClient, path: str, required: list[str], degraded: str) -> Outcome:
    """Every required dependency reports ``ok``; ``degraded`` warns or fails as configured."""
    target = ", ".join(required) + " ok"
    try:
        reply = client.get(path)
    except ProbeError as exc:
        return Outcome.failed(str(exc), value="no answer", target=target)
    body, problem = parse_json(reply)
    deps = field_at(body, "dependencies") if problem is None else MISSING
    # A bot may answer 503 with the full picture when a dependency is down:
    # naming the dependency is more useful than naming the status code.
    if not isinstance(deps, dict):
        if reply.status != 200:
            return Outcome.failed(reply.describe_status(), value=f"HTTP {reply.status}", target=target)
        why = problem or f"{reply.url}: field dependencies is missing from the response"
        return Outcome.failed(why, value="no dependencies", target=target)
    states = {name: _dependency_status(deps.get(name, None)) for name in required}
    problems = []
    for name, status in states.items():
        if name not in deps:
            problems.append(f"dependency {name} is missing from the answer")
        elif status is None:
            problems.append(f"dependency {name} has no status")
        elif status not in (OK, DEGRADED):
            problems.append(f"dependency {name} is {status}")
    slow = [f"dependency {name} is degraded" for name, status in states.items() if status == DEGRADED]
    healthy = [name for name, status in states.items() if status == OK]
    value = ", ".join(f"{name} {status or 'missing'}" for name, status in states.items())
    detail = {"url": reply.url, "dependencies": states, "value": value, "target": target}
    if problems or (slow and degraded == "fail"):
        return Outcome.failed("; ".join(problems + (slow if degraded == "fail" else [])), **detail)
    if slow:
        return Outcome.warned(f"{'; '.join(slow)} ({', '.join(healthy) or 'no other'} ok)", **detail)
    return Outcome.passed(f"{', '.join(required)} ok", **detail)


def check_synthetic(client: HealthClient, check: SyntheticCheck, max_ms: float | None = None) -> Outcome:
    """Send the synthetic request and compare status, JSON fields, text and latency."""
    target = f"HTTP {check.status}" + (f", {len(check.expect)} fields" if check.expect else "")
    try:
        reply = client.post(check.path, check.json_body) if check.method == "POST" else client.get(check.path)
    except ProbeError as exc:
        return Outcome.failed(str(exc), value="no answer", target=target)
    said = f"{check.method} {reply.url}"
    detail = {"url": reply.url, "http_status": reply.status, "ms": round(reply.elapsed_ms), "target": target}
    if reply.status != check.status:
        return Outcome.failed(
            f"{reply.describe_status()}, expected {check.status}", value=f"HTTP {reply.status}", **detail
        )
    if check.expect:
        body, problem = parse_json(reply)
        mismatch = problem or compare_fields(body, check.expect)
        if mismatch is not None:
            return Outcome.failed(mismatch if problem else f"{said}: {mismatch}", value="unexpected answer", **detail)
    if check.contains is not None and check.contains not in reply.text:
        return Outcome.failed(
            f"{said}: the answer does not contain {check.contains!r}", value="unexpected answer", **detail
        )
    if max_ms is not None and reply.elapsed_ms > max_ms:
        return Outcome.failed(
            f"{said} answered in {reply.elapsed_ms:.0f}ms, limit {max_ms:.0f}ms",
            value=f"{reply.elapsed_ms:.0f}ms",
            **detail,
        )
    return Outcome.passed(
        f"{said} answered HTTP {reply.status} in {reply.elapsed_ms:.0f}ms", value=f"HTTP {reply.status}", **detail
    )


def live(ctx: ProbeContext, params: LiveParams) -> Outcome:
    health = health_config(ctx, params.base_url)
    with client_for(ctx, health, timeout=params.timeout, retries=params.retries) as client:
        return check_live(client, params.path or health.paths.health)


def version(ctx: RunContext, params: VersionParams) -> Outcome:
    """``health.version``: every probe serves the expected version (see :func:`expected_version`)."""
    return served_version(ctx, params, expected_version(ctx, params.version))


def served_version(ctx: ProbeContext, params: VersionParams, want: str) -> Outcome:
    """Every probe of the environment's bot serves ``want``."""
    health = health_config(ctx, params.base_url)
    probes = params.probes or health.version_probes
    # No keep-alive: each probe opens its own connection, so that a load
    # balancer that balances per connection spreads them over instances.
    with client_for(
        ctx,
        health,
        timeout=params.timeout,
        retries=params.retries,
        max_connections=min(params.concurrency, probes),
        keepalive=False,
    ) as client:
        return check_version(
            client,
            params.path or health.paths.health,
            want,
            probes=probes,
            concurrency=params.concurrency,
            field=params.field,
        )


def dependencies(ctx: ProbeContext, params: DependenciesParams) -> Outcome:
    health = health_config(ctx, params.base_url)
    required = params.required if params.required is not None else health.required_dependencies
    with client_for(ctx, health, timeout=params.timeout, retries=params.retries) as client:
        return check_dependencies(
            client, params.path or health.paths.dependencies, required, params.degraded or health.degraded
        )


def synthetic_check(ctx: ProbeContext, params: SyntheticParams) -> SyntheticCheck | None:
    """``health.synthetic`` with the keys given in ``with:`` replacing its own; None when there is no path."""
    health = health_config(ctx, params.base_url)
    merged: dict[str, Any] = health.synthetic.model_dump() if health.synthetic else {}
    given = params.model_dump(
        include={"method", "path", "json_body", "status", "expect", "contains"}, exclude_none=True
    )
    merged.update(given)
    return SyntheticCheck.model_validate(merged) if merged.get("path") else None


def synthetic(ctx: ProbeContext, params: SyntheticParams) -> Outcome:
    health = health_config(ctx, params.base_url)
    check = synthetic_check(ctx, params)
    if check is None:
        # A warning, not an error: the built-in post-deploy checklist uses this
        # item, and a project without a synthetic request should still deploy,
        # seeing every time that core functionality went unverified.
        return Outcome.warned(
            f"not verified: no synthetic request is configured; set environments.{ctx.env_name}.health.synthetic "
            "in opsctl.yaml or pass with: path",
            value="not configured",
            target="configured",
        )
    with client_for(ctx, health, timeout=params.timeout, retries=params.retries) as client:
        return check_synthetic(client, check, params.max_ms)
