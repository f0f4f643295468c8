"""``run_named_checklist``: a checklist as a run of its own, journaled from start to verdict."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsctl.errors import BadInput, ConfigError
from opsctl.runs import run_named_checklist
from opsctl.workspace import Workspace
from tests.support.context import FIXED_NOW, make_workspace
from tests.support.isolation import _isolated, builtins  # noqa: F401 - autouse isolation, built-ins
from tests.support.util import checklist, command_item, py, write_checklist


def events(ws: Workspace) -> list[dict[str, object]]:
    return [json.loads(line) for line in ws.audit.path.read_text().splitlines()]


def test_a_run_is_journaled_from_start_to_verdict(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, clock=lambda: FIXED_NOW)
    write_checklist(tmp_path, "smoke", checklist(command_item("ok", py("pass"))))

    result = run_named_checklist(ws, "smoke", "staging", params={"image": "hvb:1.8.0"})

    assert result.ok
    logged = events(ws)
    run_id = logged[0]["run"]
    assert re.fullmatch(r"r20261127-100000-[0-9a-f]{6}", str(run_id))
    assert [(e["step"], e["status"]) for e in logged] == [
        ("run", "started"),
        ("smoke", "started"),
        ("smoke/ok", "started"),
        ("smoke/ok", "passed"),
        ("smoke", "passed"),
        ("run", "passed"),
    ]
    assert {(e["run"], e["runbook"], e["env"], e["actor"]) for e in logged} == {
        (run_id, "checklist:smoke", "staging", "tester@example.com")
    }
    assert logged[0]["params"] == {"image": "hvb:1.8.0"}
    assert logged[0]["ts"] == "2026-11-27T10:00:00.000Z"
    assert ws.audit.verify().ok


def test_a_failing_run_is_journaled_as_failed(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    write_checklist(tmp_path, "smoke", checklist(command_item("bad", py("raise SystemExit(1)"))))
    result = run_named_checklist(ws, "smoke", None)
    assert not result.ok
    last = events(ws)[-1]
    assert (last["step"], last["status"], last["counts"]) == (
        "run",
        "failed",
        {"passed": 0, "failed": 1, "warned": 0, "skipped": 0, "waived": 0, "not_applicable": 0},
    )
    assert last["env"] == "-"


def test_bad_input_during_the_run_is_journaled_and_raised(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    write_checklist(tmp_path, "smoke", checklist(command_item("a", ["echo", "{{ nope }}"])))
    with pytest.raises(ConfigError) as caught:
        run_named_checklist(ws, "smoke", "staging")
    assert str(caught.value) == "checklists/smoke.yaml:6: items -> 0 -> with: template error: 'nope' is undefined"
    last = events(ws)[-1]
    assert (last["step"], last["status"], last["summary"]) == ("run", "error", str(caught.value))


def test_unknown_environment_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    write_checklist(tmp_path, "smoke", checklist(command_item("ok", py("pass"))))
    with pytest.raises(BadInput) as caught:
        run_named_checklist(ws, "smoke", "prod")
    assert str(caught.value) == "unknown environment 'prod' (defined in opsctl.yaml: staging, production)"
    assert not ws.audit.path.exists()


def test_run_ids_are_unique_and_sortable(tmp_path: Path) -> None:
    moments = iter([datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)])
    ws = make_workspace(tmp_path, clock=lambda: next(moments))
    first, second = ws.new_run_id(), ws.new_run_id()
    assert first < second
    assert first.startswith("r20260101-000000-")
    assert len({make_workspace(tmp_path, clock=lambda: FIXED_NOW).new_run_id() for _ in range(20)}) == 20
