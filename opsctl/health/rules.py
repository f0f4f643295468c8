"""Prometheus alerting rules and Alertmanager: the service's alerts are loaded, evaluated, and go somewhere.

- Prometheus ``/api/v1/rules?type=alert``: the service's alerting rules (those
  carrying ``health.prometheus.alert_labels``, default ``service: SERVICE``,
  and every name in ``alert_rules``) are loaded with health ``ok``;
  ``/api/v1/alertmanagers``: Prometheus sends alerts to at least one Alertmanager.
- Alertmanager ``/api/v2/status``: answers, and its configuration has a
  receiver that delivers somewhere (one with at least one ``*_configs`` entry).
"""

from __future__ import annotations

from typing import Any

from opsctl.engine.outcome import Outcome
from opsctl.health.client import HealthClient, ProbeError


def _data(client: HealthClient, path: str, what: str, params: dict[str, str] | None = None) -> Any:
    reply = client.get(path, params=params)
    try:
        body = reply.json()
    except ValueError:
        raise ProbeError(f"{what} at {client.base_url} did not answer JSON ({reply.describe_status()})") from None
    if reply.status != 200:
        raise ProbeError(reply.describe_status())
    return body


def _field(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...`` where each level is a mapping, else None: an answer of the wrong shape is no data."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _alerting_rules(body: Any) -> list[dict[str, Any]]:
    groups = _field(body, "data", "groups")
    return [
        {**rule, "group": group.get("name")}
        for group in _listed(groups)
        if isinstance(group, dict)
        for rule in _listed(group.get("rules"))
        if isinstance(rule, dict) and rule.get("type", "alerting") == "alerting"
    ]


def check_rules(client: HealthClient, labels: dict[str, str], required: list[str]) -> Outcome:
    """The service's alerting rules are loaded and healthy, and Prometheus has an Alertmanager to send to."""
    wanted = ", ".join(f"{k}={v}" for k, v in labels.items())
    try:
        rules = _alerting_rules(_data(client, "/api/v1/rules", "Prometheus", {"type": "alert"}))
        managers = _data(client, "/api/v1/alertmanagers", "Prometheus")
    except ProbeError as exc:
        return Outcome.failed(f"Prometheus rules: {exc}", value="no answer")
    names = {str(r.get("name")) for r in rules}
    ours = [r for r in rules if all((r.get("labels") or {}).get(k) == v for k, v in labels.items())]
    ours += [r for r in rules if r.get("name") in required and r not in ours]
    detail: dict[str, Any] = {
        "rules": {str(r.get("name")): r.get("health") for r in ours},
        "value": f"{len(ours)} rules",
        "target": f"alerting rules with {wanted}" if wanted else "alerting rules",
    }
    if not ours:
        loaded = f"{len(rules)} alerting rules loaded, none with {wanted}" if rules else "no alerting rules loaded"
        return Outcome.failed(f"Prometheus has no alerting rules for the service ({loaded})", **detail)
    missing = [name for name in required if name not in names]
    if missing:
        return Outcome.failed(f"Prometheus has no alerting rule {', '.join(missing)}", **detail)
    sick = [r for r in ours if r.get("health") != "ok"]
    if sick:
        first = sick[0]
        why = f": {first.get('lastError')}" if first.get("lastError") else ""
        return Outcome.failed(
            f"{len(sick)} of {len(ours)} alerting rules are not healthy: {first.get('name')} is "
            f"{first.get('health') or 'unknown'}{why}",
            **detail,
        )
    active = _listed(_field(managers, "data", "activeAlertmanagers"))
    if not active:
        return Outcome.failed(
            f"{len(ours)} alerting rules ok, but Prometheus sends alerts to no Alertmanager", **detail
        )
    firing = sorted(str(r.get("name")) for r in ours if r.get("state") == "firing")
    shown = f", {len(firing)} firing: {', '.join(firing)}" if firing else ""
    detail["alertmanagers"] = [m.get("url") for m in active if isinstance(m, dict)]
    return Outcome.passed(
        f"{len(ours)} alerting rules loaded and ok{shown}; Prometheus sends to {len(active)} Alertmanager(s)", **detail
    )


def _receivers(original: str) -> tuple[list[str], list[str]]:
    """(every receiver's name, those that deliver somewhere) from Alertmanager's configuration text."""
    import yaml

    try:
        config = yaml.safe_load(original) or {}
    except yaml.YAMLError:
        return [], []
    receivers = [r for r in config.get("receivers") or [] if isinstance(r, dict)] if isinstance(config, dict) else []
    names = [str(r.get("name")) for r in receivers]
    delivering = [str(r.get("name")) for r in receivers if any(str(k).endswith("_configs") and v for k, v in r.items())]
    return names, delivering


def check_alertmanager(client: HealthClient) -> Outcome:
    """``/api/v2/status`` answers and the configuration has a receiver that delivers."""
    try:
        body = _data(client, "/api/v2/status", "Alertmanager")
    except ProbeError as exc:
        return Outcome.failed(f"Alertmanager: {exc}", value="no answer")
    if not isinstance(body, dict) or not isinstance(body.get("config", {}), dict):
        return Outcome.failed(f"Alertmanager at {client.base_url} answered an unexpected status document")
    cluster = str(_field(body, "cluster", "status") or "unknown")
    names, delivering = _receivers(str(_field(body, "config", "original") or ""))
    detail = {"receivers": names, "delivering": delivering, "cluster": cluster, "value": f"{len(delivering)} receivers"}
    if not names:
        return Outcome.failed(f"Alertmanager at {client.base_url} has no receivers", **detail)
    if not delivering:
        return Outcome.failed(
            f"Alertmanager has no receiver that sends anywhere (receivers: {', '.join(names)})", **detail
        )
    return Outcome.passed(f"Alertmanager answers (cluster {cluster}) with receivers {', '.join(delivering)}", **detail)
