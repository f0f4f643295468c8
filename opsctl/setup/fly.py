"""Discover a Fly app through the Machines API: its machines, image, regions and HTTP health check.

Reads only (``GET /v1/apps/{app}/machines``), with the Fly driver's own client
(token from ``token_env``, else ``FLY_API_TOKEN``; retries; redaction).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from opsctl.errors import BadInput
from opsctl.setup.model import Discovered
from opsctl.setup.targets import Target

DEFAULT_API_URL = "https://api.machines.dev"
DEFAULT_TOKEN_ENV = "FLY_API_TOKEN"  # noqa: S105 - the name of an env var, not a token
DEFAULT_HEALTH_PATH = "/health"


def discover_fly(
    target: Target,
    *,
    api_url: str = DEFAULT_API_URL,
    token_env: str = DEFAULT_TOKEN_ENV,
    environ: Mapping[str, str] | None = None,
) -> Discovered:
    """What the app ``target`` runs; BadInput when it does not exist or the token is missing."""
    from opsctl.platforms.fly_http import FlyApiError, FlyClient, read_token

    (app,) = target.parts
    token, _ = read_token(token_env, os.environ if environ is None else environ)
    client = FlyClient(api_url, app, token)
    try:
        machines = client.list_machines()
    except FlyApiError as exc:
        raise BadInput(f"reading Fly app {app}: {exc}") from None
    finally:
        client.close()
    if not machines:
        raise BadInput(f"Fly app {app} has no machines yet: deploy it once with flyctl, then run opsctl init again")
    return _discovered(target, app, machines, api_url, token_env)


def _discovered(target: Target, app: str, machines: list[dict[str, Any]], api_url: str, token_env: str) -> Discovered:
    config = machines[0].get("config") or {}
    regions = sorted({str(m.get("region")) for m in machines if m.get("region")})
    groups = sorted(
        {str((m.get("config") or {}).get("metadata", {}).get("fly_process_group") or "app") for m in machines}
    )
    platform: dict[str, Any] = {"kind": "fly", "app": app}
    if api_url.rstrip("/") != DEFAULT_API_URL:
        platform["api_url"] = api_url.rstrip("/")
    if token_env != DEFAULT_TOKEN_ENV:
        platform["token_env"] = token_env
    notes = [
        f"Fly app {app}: {len(machines)} machine(s) in {', '.join(regions) or 'unknown regions'}"
        f" (process groups: {', '.join(groups)})"
    ]
    path = _check_path(config)
    health: dict[str, Any] | None = None
    if _public(config):
        health = {"base_url": f"https://{app}.fly.dev"}
        if path and path != DEFAULT_HEALTH_PATH:
            health["paths"] = {"health": path}
        notes.append(f"public at https://{app}.fly.dev" + (f"; its HTTP check reads {path}" if path else ""))
    else:
        notes.append("no public HTTP service: set health.base_url to where the bot answers")
    image = config.get("image")
    return Discovered(
        kind="fly",
        target=target.text,
        service=app,
        name_hint=app,
        platform=platform,
        health=health,
        image=str(image) if image else None,
        notes=tuple(notes),
    )


def _check_path(config: dict[str, Any]) -> str | None:
    """The path of the machine's first HTTP check (top-level ``checks`` or a service's)."""
    checks = list((config.get("checks") or {}).values())
    for service in config.get("services") or []:
        checks += list(service.get("checks") or [])
    for check in checks:
        if isinstance(check, dict) and check.get("type", "http") == "http" and check.get("path"):
            return str(check["path"])
    return None


def _public(config: dict[str, Any]) -> bool:
    """True when a service answers on port 80 or 443 (what ``APP.fly.dev`` reaches)."""
    for service in config.get("services") or []:
        for port in service.get("ports") or []:
            if isinstance(port, dict) and port.get("port") in (80, 443):
                return True
    return False
