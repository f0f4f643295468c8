"""Severities and their targets, the decision matrix, incident ids, and an incident's state.

Response targets are the operational-maturity ones: P0 immediate, P1 15
minutes, P2 1 hour, P3 4 hours. "Immediate" cannot be measured as zero (no
person acknowledges in no time), so a P0 counts as answered on time within
:data:`IMMEDIATE`. The maturity document sets no resolution targets; the
ones below are opsctl's defaults, shown next to every time to resolve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from opsctl.errors import BadInput

IMMEDIATE = 5 * 60.0  # seconds: what "immediate response" means when a P0's acknowledgement is judged
_ID = re.compile(r"INC-0*(\d+)", re.IGNORECASE)


class Severity(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


@dataclass(frozen=True)
class Policy:
    """What a severity means: its name, targets (seconds), how it pages, whether it needs a post-mortem."""

    name: str
    respond_s: float
    resolve_s: float
    respond_text: str
    pagerduty_severity: str  # PagerDuty maps critical/error to high urgency, warning/info to low
    urgency: str
    postmortem_required: bool

    @property
    def respond_phrase(self) -> str:
        """``respond immediately`` / ``respond within 15 minutes``."""
        return "respond immediately" if self.respond_text == "immediate" else f"respond within {self.respond_text}"


POLICIES: dict[Severity, Policy] = {
    Severity.P0: Policy("critical", IMMEDIATE, 4 * 3600.0, "immediate", "critical", "high", True),
    Severity.P1: Policy("high", 15 * 60.0, 8 * 3600.0, "15 minutes", "error", "high", True),
    Severity.P2: Policy("medium", 3600.0, 24 * 3600.0, "1 hour", "warning", "low", False),
    Severity.P3: Policy("low", 4 * 3600.0, 72 * 3600.0, "4 hours", "info", "low", False),
}


def parse_severity(text: str) -> Severity:
    """``P1`` (any case) as a Severity; BadInput naming the choices otherwise."""
    try:
        return Severity(text.strip().upper())
    except ValueError:
        raise BadInput(f"unknown severity '{text}' (use P0, P1, P2 or P3)") from None


def parse_incident_id(text: str) -> str:
    """``INC-42`` in its one spelling (``inc-042`` → ``INC-42``); BadInput for anything else."""
    found = _ID.fullmatch(text.strip())
    if found is None:
        raise BadInput(f"not an incident id: '{text}' (expected INC-<number>, e.g. INC-42)")
    return f"INC-{int(found.group(1))}"


def incident_number(value: Any) -> int | None:
    """The number of an incident id as written in an event (None when it is not one)."""
    found = _ID.fullmatch(value.strip()) if isinstance(value, str) else None
    return int(found.group(1)) if found else None


class Impact(StrEnum):
    OUTAGE = "outage"  # guests cannot use the bot (calls, bookings fail)
    DEGRADED = "degraded"  # it works, badly: slow, errors for some requests
    MINOR = "minor"  # cosmetic, internal, no guest notices


class Scope(StrEnum):
    ALL = "all"  # every hotel / every guest
    SOME = "some"  # some hotels, one channel or one feature
    ONE = "one"  # one hotel or guest, or internal only


MATRIX_QUESTIONS: tuple[tuple[str, str, dict[str, str]], ...] = (
    (
        "impact",
        "User impact",
        {"outage": "guests cannot use the bot", "degraded": "slow or failing for some", "minor": "no guest notices"},
    ),
    (
        "scope",
        "Scope",
        {
            "all": "every hotel",
            "some": "some hotels, a channel or a feature",
            "one": "one hotel or guest, or internal only",
        },
    ),
    ("workaround", "Workaround", {"no": "none", "yes": "guests or staff can get by"}),
)


def classify(impact: Impact, scope: Scope, workaround: bool) -> Severity:
    """The decision matrix: an outage for everyone with no workaround is P0; each mitigating answer lowers it.

    Impact counts 0/1/2 (outage/degraded/minor), scope 0/1/2 (all/some/one) and a
    workaround 1; the sum, capped at 3, is the severity's number.
    """
    rank = list(Impact).index(impact) + list(Scope).index(scope) + (1 if workaround else 0)
    return list(Severity)[min(rank, 3)]


@dataclass(frozen=True)
class Note:
    at: datetime
    actor: str
    text: str


@dataclass(frozen=True)
class Measure:
    """One target judged: time to acknowledge or to resolve, so far or final, and whether it was missed."""

    name: str  # acknowledge | resolve
    seconds: float
    target_s: float
    done: bool

    @property
    def breached(self) -> bool:
        return self.seconds > self.target_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seconds": self.seconds,
            "target_seconds": self.target_s,
            "done": self.done,
            "breached": self.breached,
        }


@dataclass
class Incident:
    """An incident as its audit events describe it (built by :func:`opsctl.incidents.store.fold`)."""

    id: str
    severity: Severity
    title: str
    env: str | None
    opened_at: datetime
    opened_by: str
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    cause: str | None = None
    postmortem: str | None = None
    notes: list[Note] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # runs started with --incident, oldest first
    run_envs: list[str] = field(default_factory=list)
    postmortem_by: date | None = None  # set when a P0/P1 is resolved (within 5 business days)
    links: dict[str, dict[str, Any]] = field(default_factory=dict)  # channel | ticket | statuspage -> id, url...
    escalation_level: int = 1  # 1: the primary was paged; each `incident escalate` adds one

    @property
    def number(self) -> int:
        return int(self.id.split("-", 1)[1])

    @property
    def policy(self) -> Policy:
        return POLICIES[self.severity]

    @property
    def status(self) -> str:
        if self.resolved_at is not None:
            return "resolved"
        return "acknowledged" if self.acknowledged_at is not None else "open"

    @property
    def respond_by(self) -> datetime:
        return self.opened_at + timedelta(seconds=self.policy.respond_s)

    @property
    def envs(self) -> list[str]:
        """The environments it concerns: the one it was opened for, then those its runs changed."""
        named = [self.env] if self.env else []
        return named + [e for e in dict.fromkeys(self.run_envs) if e not in named]

    @property
    def postmortem_due(self) -> bool:
        """P0 and P1 incidents need a post-mortem once resolved."""
        return self.policy.postmortem_required and self.resolved_at is not None and self.postmortem is None

    @property
    def postmortem_date(self) -> date | None:
        """The day the post-mortem is due: as set when resolving, else 5 business days after resolution."""
        if not self.policy.postmortem_required or self.resolved_at is None:
            return None
        from opsctl.incidents.schedule import default_date

        return self.postmortem_by or default_date(self.resolved_at)

    def postmortem_overdue(self, now: datetime) -> bool:
        """A post-mortem is due and its day has passed (the day itself still counts as on time)."""
        due = self.postmortem_date
        return self.postmortem_due and due is not None and now.date() > due

    def respond_overdue(self, now: datetime) -> bool:
        """Nobody acknowledged (or resolved) it and its response deadline has passed."""
        return self.acknowledged_at is None and self.resolved_at is None and now > self.respond_by

    def link(self, kind: str) -> str | None:
        """The URL of the incident's ``channel``, ``ticket`` or ``statuspage`` incident, when it has one."""
        url = self.links.get(kind, {}).get("url")
        return str(url) if url else None

    def acknowledge_measure(self, now: datetime) -> Measure:
        """Time to acknowledge; resolving without an explicit ack counts as the response."""
        answered = self.acknowledged_at or self.resolved_at
        end = answered or now
        return Measure(
            "acknowledge", (end - self.opened_at).total_seconds(), self.policy.respond_s, answered is not None
        )

    def resolve_measure(self, now: datetime) -> Measure:
        end = self.resolved_at or now
        return Measure(
            "resolve", (end - self.opened_at).total_seconds(), self.policy.resolve_s, self.resolved_at is not None
        )

    def breaches(self, now: datetime) -> list[str]:
        """Which targets were missed (or are overdue now): "acknowledge", "resolve"."""
        return [m.name for m in (self.acknowledge_measure(now), self.resolve_measure(now)) if m.breached]

    def as_dict(self, now: datetime) -> dict[str, Any]:
        from opsctl.audit.line import format_ts

        def ts(value: datetime | None) -> str | None:
            return format_ts(value) if value else None

        return {
            "id": self.id,
            "severity": self.severity.value,
            "title": self.title,
            "env": self.env,
            "envs": self.envs,
            "status": self.status,
            "opened_at": ts(self.opened_at),
            "opened_by": self.opened_by,
            "respond_by": ts(self.respond_by),
            "acknowledged_at": ts(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "resolved_at": ts(self.resolved_at),
            "resolved_by": self.resolved_by,
            "cause": self.cause,
            "postmortem": self.postmortem,
            "postmortem_due": self.postmortem_due,
            "postmortem_by": self.postmortem_date.isoformat() if self.postmortem_date else None,
            "postmortem_overdue": self.postmortem_overdue(now),
            "respond_overdue": self.respond_overdue(now),
            "escalation_level": self.escalation_level,
            "links": {kind: dict(fields) for kind, fields in self.links.items()},
            "runs": self.runs,
            "notes": [{"at": ts(n.at), "actor": n.actor, "text": n.text} for n in self.notes],
            "acknowledge": self.acknowledge_measure(now).as_dict(),
            "resolve": self.resolve_measure(now).as_dict(),
            "breaches": self.breaches(now),
        }
