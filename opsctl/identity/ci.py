"""Whether opsctl runs in CI, and which pipeline: recorded on a run's ``started`` event.

``opsctl maturity`` reads it to tell automated deployments (a pipeline ran
the runbook) from a person's laptop. The variables are the providers'
documented ones; ``CI=true`` alone (set by nearly every CI service) still
counts, as provider ``ci``. Only names and links are kept, never a token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def ci_origin(environ: Mapping[str, str] | None = None) -> dict[str, str] | None:
    """``{"provider": ..., "url": ...}`` of the pipeline running opsctl, or None outside CI."""
    env = os.environ if environ is None else environ

    def on(name: str) -> bool:
        return env.get(name, "").strip().lower() == "true"

    if on("GITHUB_ACTIONS"):
        server, repo, run = (
            env.get("GITHUB_SERVER_URL", ""),
            env.get("GITHUB_REPOSITORY", ""),
            env.get("GITHUB_RUN_ID", ""),
        )
        url = f"{server}/{repo}/actions/runs/{run}" if server and repo and run else ""
        return _kept({"provider": "github", "url": url, "workflow": env.get("GITHUB_WORKFLOW", "")})
    if on("GITLAB_CI"):
        return _kept({"provider": "gitlab", "url": env.get("CI_JOB_URL", "")})
    if on("BUILDKITE"):
        return _kept({"provider": "buildkite", "url": env.get("BUILDKITE_BUILD_URL", "")})
    if on("CIRCLECI"):
        return _kept({"provider": "circleci", "url": env.get("CIRCLE_BUILD_URL", "")})
    if on("CI"):
        return {"provider": "ci"}
    return None


def ci_fields(environ: Mapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """``{"ci": origin}`` to add to a run's ``started`` event, or nothing outside CI."""
    origin = ci_origin(environ)
    return {"ci": origin} if origin else {}


def _kept(values: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if v}
