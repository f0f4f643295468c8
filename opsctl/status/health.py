"""``opsctl health ENV``: every health and SLO probe once, as rows (probe, value, target, verdict).

The expected version is the image tag of the release the platform runs now
(there is no deploy in progress to compare with); the error rate is read
without a baseline. Probes run concurrently; results keep a fixed order and
are redacted. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome, Status
from opsctl.errors import OpsctlError
from opsctl.health import freshness, probes, slo
from opsctl.health.client import health_config
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
    from opsctl.workspace import Workspace


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


def _version(ctx: RunContext) -> Outcome:
    try:
        running = ctx.platform().current_release()
    except OpsctlError as exc:
        return Outcome.failed(f"cannot tell which release runs: {exc}", value="?", target="?")
    return probes.version(ctx, VersionParams(), expected=running.tag)


PROBES: tuple[tuple[str, Callable[[RunContext], Outcome]], ...] = (
    ("live", lambda ctx: probes.live(ctx, LiveParams())),
    ("version", _version),
    ("dependencies", lambda ctx: probes.dependencies(ctx, DependenciesParams())),
    ("synthetic", lambda ctx: probes.synthetic(ctx, SyntheticParams())),
    ("latency", lambda ctx: slo.latency(ctx, LatencyParams())),
    ("error rate", lambda ctx: slo.error_rate(ctx, ErrorRateParams(baseline=False))),
    ("db pool", lambda ctx: slo.db_pool(ctx, DbPoolParams())),
    ("monitoring", lambda ctx: freshness.fresh(ctx, FreshParams())),
)


def _row(ctx: RunContext, name: str, run: Callable[[RunContext], Outcome]) -> ProbeResult:
    try:
        outcome = run(ctx)
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


def probe_environment(ctx: RunContext, *, only: tuple[str, ...] = ()) -> list[ProbeResult]:
    """Run the probes (all, or those named in ``only``) against ``ctx``'s environment."""
    health_config(ctx)  # no health config: one clear BadInput before any probe starts
    chosen = [(name, fn) for name, fn in PROBES if not only or name in only]
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="opsctl-probe") as pool:
        futures = [pool.submit(_row, ctx, name, fn) for name, fn in chosen]
        try:
            return [f.result() for f in futures]
        except KeyboardInterrupt:
            ctx.cancel.set()  # every wait and retry in the probes ends early
            raise


def probe_named_environment(ws: Workspace, env: str) -> list[ProbeResult]:
    """The report for ``env`` of a loaded workspace (an ad-hoc look: nothing is journaled)."""
    ws.config.environment(env)
    ctx = ws.context(ws.journal("health", "health", env), env)
    return probe_environment(ctx)
