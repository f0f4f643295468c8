"""An Atlassian Statuspage stand-in on 127.0.0.1 (REST API v1, the incident endpoints opsctl uses).

``Authorization: OAuth <api key>`` is required (else 401 ``{"error": "Could not
authenticate"}``); an unknown page or incident is 404 ``{"error": "Not found"}``;
invalid input is 422 ``{"error": ["..."]}``.

- ``POST /pages/{page_id}/incidents`` ``{"incident": {name, status, body,
  component_ids, components: {id: status}}}`` -> 201, the incident
  (``id``, ``name``, ``status``, ``shortlink``, ``incident_updates``, ``components``);
- ``PATCH /pages/{page_id}/incidents/{id}`` ``{"incident": {status, body, components}}``
  -> 200; a ``body`` adds an incident update.

Component statuses are kept (``component_status``), starting ``operational``.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.support.api_server import Recorded, Reply, StandIn

API_KEY = "sp-api-key-9f8e7d6c5b4a3210"
PAGE_ID = "hvbpage01"
COMPONENT = "cmpbot0001"
STATUSES = ("investigating", "identified", "monitoring", "resolved")
COMPONENT_STATUSES = ("operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance")


class StatuspageApi(StandIn):
    name = "Statuspage"

    def __init__(
        self, api_key: str = API_KEY, page_id: str = PAGE_ID, components: tuple[str, ...] = (COMPONENT,)
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.page_id = page_id
        self.component_status = dict.fromkeys(components, "operational")
        self.incidents: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def answer(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != f"OAuth {self.api_key}":
            return Reply(401, {"error": "Could not authenticate"})
        base = f"/pages/{self.page_id}/incidents"
        if request.path == base and request.method == "POST":
            return self._create(request.body)
        if request.path.startswith(base + "/") and request.method == "PATCH":
            incident = self.incidents.get(request.path.rsplit("/", 1)[-1])
            if incident is None:
                return Reply(404, {"error": "Not found"})
            return self._update(incident, request.body)
        return Reply(404, {"error": "Not found"})

    def _fields(self, body: Any) -> tuple[dict[str, Any] | None, list[str]]:
        incident = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(incident, dict):
            return None, ["incident is missing"]
        errors = []
        if "status" in incident and incident["status"] not in STATUSES:
            errors.append(f"Status {incident['status']} is not a valid status")
        for component, status in (incident.get("components") or {}).items():
            if component not in self.component_status:
                errors.append(f"Component {component} not found")
            elif status not in COMPONENT_STATUSES:
                errors.append(f"Component status {status} is not valid")
        return incident, errors

    def _create(self, body: Any) -> Reply:
        incident, errors = self._fields(body)
        if incident is not None and not incident.get("name"):
            errors.append("Name can't be blank")
        if errors or incident is None:
            return Reply(422, {"error": errors})
        number = next(self._ids)
        made = {
            "id": f"spinc{number:04d}",
            "name": incident["name"],
            "status": incident.get("status", "investigating"),
            "shortlink": f"https://stspg.io/hvb{number}",
            "page_id": self.page_id,
            "incident_updates": [],
            "components": [],
        }
        self.incidents[made["id"]] = made
        return Reply(201, self._apply(made, incident))

    def _update(self, made: dict[str, Any], body: Any) -> Reply:
        incident, errors = self._fields(body)
        if errors or incident is None:
            return Reply(422, {"error": errors})
        return Reply(200, self._apply(made, incident))

    def _apply(self, made: dict[str, Any], incident: dict[str, Any]) -> dict[str, Any]:
        made["status"] = incident.get("status", made["status"])
        for component, status in (incident.get("components") or {}).items():
            self.component_status[component] = status
        if incident.get("body"):
            made["incident_updates"].insert(0, {"status": made["status"], "body": incident["body"]})
        ids = incident.get("component_ids") or list(incident.get("components") or {})
        made["components"] = [{"id": c, "status": self.component_status[c]} for c in ids if c in self.component_status]
        return dict(made)
