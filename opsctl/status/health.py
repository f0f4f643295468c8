"""``opsctl health ENV``: every health and SLO probe once, as rows (probe, value, target, verdict).

The expected version is the image tag of the release the platform runs now
(there is no deploy in progress to compare with); the error rate is read
without a baseline. Probes run concurrently; results keep a fixed order and
are redacted. Nothing here prints, and nothing is journaled: an ad-hoc look
is no run.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsctl.engine.outcome import Outcome, Status
from opsctl.errors import OpsctlError
from opsctl.health import freshness, probes, slo
from opsctl.health.client import health_config
from opsctl.health.context import EnvLook, ProbeContext
from opsctl.health.params import (
    DbPoolParams,
    DependenciesParams,
    ErrorRateParams,
    FreshParams,
    LatencyParams,
    LiveParams,
    SyntheticParams,
    VersionParams,
)

if TYPE_CHECKING:
    from opsctl.platforms.base import Release
    from opsctl.workspace import Workspace

Running = Callable[[], "Release"]  # what the platform runs now (raises OpsctlError when it cannot tell)
Probe = Callable[[ProbeContext, Running], Outcome]


@dataclass(frozen=True)
class ProbeResult:
    """One row of the report."""

    probe: str
    value: str
    target: str
    verdict: Status
    summary: str

    @property
    def ok(self) -> bool:
        return self.verdict is not Status.FAILED

    def as_dict(self) -> dict[str, Any]:
        return {
            "probe": self.probe,
            "value": self.value,
            "target": self.target,
            "verdict": self.verdict.value,
            "summary": self.summary,
        }


def _version(ctx: ProbeContext, running: Running) -> Outcome:
    try:
        release = running()
    except OpsctlError as exc:
        return Outcome.failed(f"cannot tell which release runs: {exc}", value="?", target="?")
    return probes.served_version(ctx, VersionParams(), release.tag)


PROBES: tuple[tuple[str, Probe], ...] = (
    ("live", lambda ctx, _: probes.live(ctx, LiveParams())),
    ("version", _version),
    ("dependencies", lambda ctx, _: probes.dependencies(ctx, DependenciesParams())),
    ("synthetic", lambda ctx, _: probes.synthetic(ctx, SyntheticParams())),
    ("latency", lambda ctx, _: slo.latency(ctx, LatencyParams())),
    ("error rate", lambda ctx, _: slo.error_rate_against(ctx, ErrorRateParams(), None)),  # no baseline: no run
    ("db pool", lambda ctx, _: slo.db_pool(ctx, DbPoolParams())),
    ("monitoring", lambda ctx, _: freshness.fresh(ctx, FreshParams())),
)


def _row(ctx: ProbeContext, running: Running, name: str, run: Probe) -> ProbeResult:
    try:
        outcome = run(ctx, running)
    except OpsctlError:
        raise  # bad input (a missing header variable, a bad cloudwatch block): one line, exit 2
    except Exception as exc:  # one broken probe must not hide the others' answers
        outcome = Outcome.failed(f"{type(exc).__name__}: {exc}")
    text = ctx.redactor.text
    return ProbeResult(
        name,
        text(str(outcome.detail.get("value", "-"))),
        text(str(outcome.detail.get("target", "-"))),
        outcome.status,
        text(outcome.summary),
    )


def probe_environment(ctx: ProbeContext, running: Running, *, only: tuple[str, ...] = ()) -> list[ProbeResult]:
    """Run the probes (all, or those named in ``only``) against ``ctx``'s environment.

    ``running`` says which release the platform runs: its tag is the version the bot must serve.
    """
    health_config(ctx)  # no health config: one clear BadInput before any probe starts
    chosen = [(name, fn) for name, fn in PROBES if not only or name in only]
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="opsctl-probe") as pool:
        futures = [pool.submit(_row, ctx, running, name, fn) for name, fn in chosen]
        try:
            return [f.result() for f in futures]
        except KeyboardInterrupt:
            ctx.cancel.set()  # every wait and retry in the probes ends early
            raise


def probe_named_environment(ws: Workspace, env: str) -> list[ProbeResult]:
    """The report for ``env`` of a loaded workspace, its platform read through ``ws.platform(env)``."""
    ws.config.environment(env)
    ctx = EnvLook(ws.config, env, ws.redactor, ws.clock)
    return probe_environment(ctx, lambda: ws.platform(env).current_release())
