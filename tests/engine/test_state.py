"""RunState: typed fields, journaled as the same JSON object as before (keys in the order first set)."""

from __future__ import annotations

import json

from opsctl.engine.state import RunState

OLD = {"id": "hvb-staging:7", "image": "hvb:1.7.0", "tag": "1.7.0", "created_at": None}
NEW = {"id": "hvb-staging:8", "image": "hvb:1.8.0", "tag": "1.8.0", "created_at": None}


def test_the_snapshot_keeps_the_order_values_were_first_set() -> None:
    state = RunState()
    state.previous = OLD
    state.attempted = {"id": None, "image": "hvb:1.8.0"}
    state.rollback_target = OLD  # a failed deploy rolled back...
    state.release = OLD
    state.attempted = NEW  # ...a key set again keeps its place

    assert list(state.as_dict()) == ["previous", "attempted", "rollback_target", "release"]
    assert state.as_dict()["attempted"] == NEW


def test_unset_values_are_left_out() -> None:
    assert RunState().as_dict() == {}
    assert RunState(release=NEW).as_dict() == {"release": NEW}


def test_a_journaled_snapshot_reads_back_to_the_same_json() -> None:
    snapshot = {
        "previous": OLD,
        "plan": {"summary": "hvb-staging:7 -> new revision", "diff": ["-a", "+b"], "changes": []},
        "baseline": {"error_rate": 0.001, "error_source": "Prometheus", "taken_at": "2026-11-27T10:00:00+00:00"},
        "rollback_plan": OLD,
        "release": NEW,
        "from_a_later_version": {"x": 1},
    }
    state = RunState.from_dict(json.loads(json.dumps(snapshot)))

    assert state.previous == OLD
    assert state.plan is not None
    assert state.plan["summary"] == "hvb-staging:7 -> new revision"
    assert state.baseline is not None
    assert state.baseline["error_rate"] == 0.001
    assert state.other == {"from_a_later_version": {"x": 1}}
    assert json.dumps(state.as_dict()) == json.dumps(snapshot)


def test_a_copy_is_independent() -> None:
    state = RunState(previous=OLD)
    copy = state.copy()
    state.release = NEW

    assert copy.release is None
    assert copy.as_dict() == {"previous": OLD}
