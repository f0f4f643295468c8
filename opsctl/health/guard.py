"""Health and served version, probed at every reading of an SLO analysis.

A ``/health`` that turns critical a minute after the rollout, or instances
that fall back to the old image, fail the reading they happen in; without
this the run would only look at them once, right after the rollout. The
version is checked only when the run knows which release it rolled out.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

from opsctl.config import HealthConfig
from opsctl.health.analysis import Measurement
from opsctl.health.client import HealthClient, client_for
from opsctl.health.context import ProbeContext
from opsctl.health.probes import check_live, check_version
from opsctl.values.imageref import ImageRef


def release_version(ctx: ProbeContext) -> str | None:
    """The version of the release this run rolled out (or tried to); None outside a run or before a rollout."""
    state = getattr(ctx, "state", None)
    release = (getattr(state, "release", None) or getattr(state, "attempted", None)) if state is not None else None
    if not isinstance(release, dict):
        return None
    ref = ImageRef.try_parse(str(release.get("image") or ""))
    if ref is not None:
        return ref.version
    tag = release.get("tag")
    return str(tag) if tag else None


@dataclass
class Guard:
    """Probes the bot's health (and the served version when ``version`` is known)."""

    client: HealthClient
    path: str
    version: str | None
    probes: int

    @classmethod
    def open(
        cls, ctx: ProbeContext, health: HealthConfig, stack: ExitStack, timeout: float | None, version: str | None
    ) -> Guard:
        client = stack.enter_context(client_for(ctx, health, timeout=timeout, keepalive=False))
        return cls(client, health.paths.health, version, health.version_probes)

    def problem(self) -> str | None:
        """Why the bot is not healthy and serving the right version now; None when it is."""
        live = check_live(self.client, self.path)
        if not live.ok:
            return f"health: {live.summary}"
        if self.version is not None:
            served = check_version(self.client, self.path, self.version, probes=self.probes)
            if not served.ok:
                return f"version: {served.summary}"
        return None

    def apply(self, reading: Measurement) -> Measurement:
        """``reading``, failed when the guard finds a problem (a failed reading is left as it is)."""
        if not reading.passed and not reading.inconclusive:
            return reading  # already a failure: more requests to a failing bot add nothing
        problem = self.problem()
        if problem is None:
            return reading
        return Measurement(reading.value, False, f"{problem}; {reading.summary}", {**reading.detail, "guard": problem})
