"""``health.*``: the bot answers its health contract (DESIGN section 4) after a deploy.

| action | checks |
|---|---|
| ``health.live`` | ``/health`` answers 200 with ``status: ok`` |
| ``health.version`` | every probe is served the version just deployed |
| ``health.dependencies`` | database, OpenAI, WhatsApp (configurable) report ``ok`` |
| ``health.synthetic`` | a test request (e.g. a guest message) gets the expected answer |

Every ``with:`` key is optional and defaults to the environment's ``health:``
config; see :mod:`opsctl.health.params`. The logic lives in
:mod:`opsctl.health.probes`; these functions only register it.
"""

from __future__ import annotations

from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.health import probes
from opsctl.health.params import DependenciesParams, LiveParams, SyntheticParams, VersionParams


@action("health.live", LiveParams, needs_env=True)
def health_live(ctx: RunContext, params: LiveParams) -> Outcome:
    """The bot's /health answers 200 with status ok."""
    return probes.live(ctx, params)


@action("health.version", VersionParams, needs_env=True)
def health_version(ctx: RunContext, params: VersionParams) -> Outcome:
    """Every probe of /health is served the version just deployed (default: the release's image tag)."""
    return probes.version(ctx, params)


@action("health.dependencies", DependenciesParams, needs_env=True)
def health_dependencies(ctx: RunContext, params: DependenciesParams) -> Outcome:
    """Each required dependency (database, openai, whatsapp) reports ok; degraded warns or fails."""
    return probes.dependencies(ctx, params)


@action("health.synthetic", SyntheticParams, needs_env=True)
def health_synthetic(ctx: RunContext, params: SyntheticParams) -> Outcome:
    """Core functionality verified: the synthetic request gets the expected status, fields and text."""
    return probes.synthetic(ctx, params)
