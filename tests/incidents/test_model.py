"""Severities, targets and breaches, the decision matrix, incident ids."""

from __future__ import annotations

from datetime import timedelta

import pytest

from opsctl.errors import BadInput
from opsctl.incidents.model import (
    POLICIES,
    Impact,
    Incident,
    Scope,
    Severity,
    classify,
    parse_incident_id,
    parse_severity,
)
from tests.incidents.support import T0

RESPONSE = {"P0": 5 * 60, "P1": 15 * 60, "P2": 3600, "P3": 4 * 3600}
RESOLUTION = {"P0": 4 * 3600, "P1": 8 * 3600, "P2": 24 * 3600, "P3": 72 * 3600}


def incident(severity: str, **fields: object) -> Incident:
    return Incident("INC-1", Severity(severity), "calls fail", "production", T0, "alice", **fields)  # type: ignore[arg-type]


def test_response_targets_are_the_maturity_document_ones() -> None:
    assert {s.value: p.respond_s for s, p in POLICIES.items()} == RESPONSE
    assert {s.value: p.respond_text for s, p in POLICIES.items()} == {
        "P0": "immediate",
        "P1": "15 minutes",
        "P2": "1 hour",
        "P3": "4 hours",
    }
    assert {s.value: p.resolve_s for s, p in POLICIES.items()} == RESOLUTION
    assert [s.value for s, p in POLICIES.items() if p.postmortem_required] == ["P0", "P1"]


@pytest.mark.parametrize("severity", ["P0", "P1", "P2", "P3"])
def test_deadline_and_acknowledge_breach_at_each_severity(severity: str) -> None:
    target = RESPONSE[severity]
    assert incident(severity).respond_by == T0 + timedelta(seconds=target)
    on_time = incident(severity, acknowledged_at=T0 + timedelta(seconds=target), acknowledged_by="bob")
    late = incident(severity, acknowledged_at=T0 + timedelta(seconds=target + 1), acknowledged_by="bob")
    much_later = T0 + timedelta(days=30)
    assert on_time.acknowledge_measure(much_later).breached is False
    assert on_time.breaches(T0 + timedelta(seconds=target)) == []
    measure = late.acknowledge_measure(much_later)
    assert (measure.seconds, measure.target_s, measure.done, measure.breached) == (target + 1, target, True, True)
    assert late.breaches(T0 + timedelta(seconds=target + 1)) == ["acknowledge"]
    # Not acknowledged yet: overdue once the deadline has passed, not before.
    pending = incident(severity)
    assert pending.breaches(T0 + timedelta(seconds=target)) == []
    overdue = pending.acknowledge_measure(T0 + timedelta(seconds=target + 1))
    assert (overdue.done, overdue.breached) == (False, True)


@pytest.mark.parametrize("severity", ["P0", "P1", "P2", "P3"])
def test_resolution_breach_at_each_severity(severity: str) -> None:
    target = RESOLUTION[severity]
    quick_ack = {"acknowledged_at": T0 + timedelta(seconds=60), "acknowledged_by": "bob"}
    on_time = incident(severity, resolved_at=T0 + timedelta(seconds=target), resolved_by="bob", cause="x", **quick_ack)
    late = incident(severity, resolved_at=T0 + timedelta(seconds=target + 1), resolved_by="bob", cause="x", **quick_ack)
    later = T0 + timedelta(days=30)
    assert on_time.breaches(later) == []
    assert late.breaches(later) == ["resolve"]
    assert incident(severity, **quick_ack).breaches(T0 + timedelta(seconds=target + 1)) == ["resolve"]


def test_resolving_without_an_ack_counts_as_the_response() -> None:
    resolved = incident("P1", resolved_at=T0 + timedelta(minutes=10), resolved_by="bob", cause="x")
    measure = resolved.acknowledge_measure(T0 + timedelta(days=1))
    assert (measure.seconds, measure.done, measure.breached) == (600, True, False)
    assert resolved.status == "resolved"


def test_postmortem_is_due_for_resolved_p0_and_p1_only() -> None:
    resolved = {"resolved_at": T0 + timedelta(minutes=10), "resolved_by": "bob", "cause": "x"}
    assert incident("P0", **resolved).postmortem_due
    assert incident("P1", **resolved).postmortem_due
    assert not incident("P1").postmortem_due  # still open: not yet
    assert not incident("P2", **resolved).postmortem_due
    assert not incident("P1", postmortem="postmortems/INC-1.md", **resolved).postmortem_due


@pytest.mark.parametrize(
    ("impact", "scope", "workaround", "expected"),
    [
        ("outage", "all", False, "P0"),
        ("outage", "all", True, "P1"),
        ("outage", "some", False, "P1"),
        ("degraded", "all", False, "P1"),
        ("outage", "one", False, "P2"),
        ("degraded", "some", False, "P2"),
        ("minor", "all", False, "P2"),
        ("degraded", "some", True, "P3"),
        ("minor", "one", True, "P3"),
    ],
)
def test_decision_matrix(impact: str, scope: str, workaround: bool, expected: str) -> None:
    assert classify(Impact(impact), Scope(scope), workaround) == Severity(expected)


def test_severity_and_id_parsing() -> None:
    assert parse_severity(" p2 ") is Severity.P2
    assert parse_incident_id("inc-007") == "INC-7"
    with pytest.raises(BadInput) as bad:
        parse_severity("P5")
    assert str(bad.value) == "unknown severity 'P5' (use P0, P1, P2 or P3)"
    with pytest.raises(BadInput) as bad:
        parse_incident_id("42")
    assert str(bad.value) == "not an incident id: '42' (expected INC-<number>, e.g. INC-42)"
