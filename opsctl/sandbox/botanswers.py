"""What the stand-in bot answers, given its behaviour: the bodies of its endpoints, without HTTP.

The handler in :mod:`opsctl.sandbox.bothandler` routes a request here and sends
the result; keeping the bodies pure makes each endpoint's contract (DESIGN
section 4) readable in one place.
"""

from __future__ import annotations

import json
from typing import Any

from opsctl.sandbox.botmetrics import RequestMetrics
from opsctl.sandbox.botstate import DEFAULT_DEPENDENCIES, Behaviour

# The dependencies a message needs: when one is down the bot cannot answer the guest.
MESSAGE_DEPENDENCIES = ("openai", "whatsapp")


def without(data: Any, missing: frozenset[str]) -> Any:
    """``data`` with the keys in ``missing`` removed at every depth (the ``missing_fields`` fault)."""
    if isinstance(data, dict):
        return {k: without(v, missing) for k, v in data.items() if k not in missing}
    return data


def dependency_states(b: Behaviour) -> dict[str, str | None]:
    """Every dependency's state: ok unless configured otherwise (None leaves it out of the answer)."""
    return {**dict.fromkeys(DEFAULT_DEPENDENCIES, "ok"), **b.dependencies}


def dependencies_body(b: Behaviour) -> dict[str, Any]:
    """The ``GET /health/dependencies`` answer: the overall status is the worst dependency's."""
    states = {k: v for k, v in dependency_states(b).items() if v is not None}
    deps: dict[str, Any] = {name: {"status": status} for name, status in states.items()}
    if "database" in deps:
        deps["database"].update(latency_ms=3, pool_in_use=b.pool_in_use, pool_size=b.pool_size)
    overall = "down" if "down" in states.values() else "degraded" if "degraded" in states.values() else "ok"
    return {"status": overall, "dependencies": deps}


def metrics_text(requests: RequestMetrics, b: Behaviour, version: str) -> str:
    """The ``GET /metrics`` answer: the request metrics plus the pool gauges and the build info."""
    lines = requests.exposition()
    lines += [
        "# TYPE hvb_db_pool_in_use gauge",
        f"hvb_db_pool_in_use {b.pool_in_use}",
        "# TYPE hvb_db_pool_size gauge",
        f"hvb_db_pool_size {b.pool_size}",
        "# TYPE hvb_build_info gauge",
        f'hvb_build_info{{version="{version}"}} 1',
    ]
    return "\n".join(lines) + "\n"


def message_answer(b: Behaviour, raw: bytes, sick: bool, number: int) -> tuple[int, dict[str, Any]]:
    """The ``POST /api/messages`` answer as (status, body); ``number`` names the conversation."""
    try:
        text = str(json.loads(raw or b"{}").get("text") or "")
    except (ValueError, AttributeError):
        text = ""
    down = [n for n in MESSAGE_DEPENDENCIES if dependency_states(b).get(n) == "down"]
    if not text:
        return 400, {"error": "a message needs text"}
    if sick or down:
        return 500 if sick else 503, {"error": f"{down[0]} is down" if down else "internal error"}
    lowered = text.lower()
    intent = "booking" if ("book" in lowered or "room" in lowered) else "greeting"
    reply = {
        "booking": "I can help you book a room. For which dates?",
        "greeting": "Hello! How can I help with your stay?",
    }[intent]
    return 200, {"reply": reply, "intent": intent, "conversation_id": f"c-{number}"}
