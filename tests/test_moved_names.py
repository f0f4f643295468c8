"""Names moved out of oversized modules stay importable where callers (and brief-Y's opsctl.reports) import them."""

from __future__ import annotations

import importlib

import pytest

MOVED = {
    "opsctl.kpis.figures": {
        "opsctl.kpis.model": [
            "REPORT_VERSION",
            "ChangeFailure",
            "EnvReport",
            "IncidentSource",
            "IncidentStats",
            "Report",
        ],
        "opsctl.kpis.recovery": ["FAILED"],
        "opsctl.kpis.environment": ["DEPLOY_RUNBOOKS", "RECOVERY_RUNBOOKS", "UNFINISHED"],
    },
    "opsctl.locks.dynamodb": {
        "opsctl.locks.dynamo_table": ["GENERATION", "KEY", "PURGE_AFTER", "TTL_ATTRIBUTE"],
        "opsctl.locks.dynamo_setup": ["create_table", "table_snippet"],
    },
    "opsctl.engine.checklist": {
        "opsctl.engine.checklist_result": ["ChecklistResult", "ItemResult"],
        "opsctl.engine.current": ["CurrentItem", "action_deadline", "current_item", "time_left", "time_limit"],
        "opsctl.engine.calls": ["DEADLINE_GRACE", "DEFAULT_ITEM_TIMEOUT", "call_action"],
    },
    "opsctl.audit.log": {
        "opsctl.audit.auditlog": ["AuditLog"],
        "opsctl.audit.append": ["append_event"],
        "opsctl.audit.chain": ["ChainPosition", "VerifyResult", "line_hash_at", "verify_keys", "verify_lines"],
        "opsctl.audit.journal": ["Journal"],
    },
}
STAYED = {
    "opsctl.kpis.figures": ["MARKS", "ROLLBACK_MARK", "build_report", "report_from_events", "report_from_log"],
    "opsctl.locks.dynamodb": ["MAX_HEARTBEAT", "DynamoLockBackend", "DynamoLockHandle"],
    "opsctl.engine.checklist": ["run_checklist"],
    "opsctl.audit.log": [],  # a front door now: every name lives in a module of its own
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_moved_names_are_the_same_objects_under_their_old_module(old: str) -> None:
    before = importlib.import_module(old)
    for new, names in MOVED[old].items():
        after = importlib.import_module(new)
        for name in names:
            assert getattr(before, name) is getattr(after, name), f"{old}.{name}"


@pytest.mark.parametrize("old", sorted(STAYED))
def test_every_public_name_is_listed_in_all(old: str) -> None:
    module = importlib.import_module(old)
    expected = set(STAYED[old]) | {name for names in MOVED[old].values() for name in names}
    assert expected <= set(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)
